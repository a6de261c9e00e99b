package dev.faultdisk.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Filter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Logger;

/**
 * The private connections' log records during a warm-up ({@link WarmUp}): made and formatted by
 * the handlers that would publish them, but not published. Formatting them is the point: the
 * first record a JVM formats loads the formatter's machinery (the caller's frame found by a stack
 * walk, MessageFormat, the level names' resource bundle), and without this that is the first real
 * connection's log line. Records of other loggers pass as before. The handlers are the JVM's, so
 * warm-ups that overlap (servers started at once in one JVM) share one hold, taken by the first
 * and given back by the last; another server's connection lines are held for as long.
 */
final class WarmUpLogs implements AutoCloseable {
    /** The loggers whose records are held: the NBD server's. */
    static final String PREFIX = "dev.faultdisk.nbd";

    private static final Object LOCK = new Object();
    private static int holders;
    private static Map<Handler, Filter> before = Map.of();

    private boolean closed;

    private WarmUpLogs() {}

    /** Holds back the records of the NBD server's loggers until every hold is closed. */
    static WarmUpLogs hold() {
        synchronized (LOCK) {
            if (holders++ == 0) {
                Map<Handler, Filter> filters = new LinkedHashMap<>();
                for (Logger l = Logger.getLogger(PREFIX); l != null; l = l.getParent()) {
                    for (Handler h : l.getHandlers()) {
                        filters.put(h, h.getFilter());
                        h.setFilter(holding(h, h.getFilter()));
                    }
                    if (!l.getUseParentHandlers()) {
                        break;
                    }
                }
                before = filters;
            }
            return new WarmUpLogs();
        }
    }

    private static Filter holding(Handler handler, Filter old) {
        return record -> {
            String name = record.getLoggerName();
            if (name == null || !name.startsWith(PREFIX)) {
                return old == null || old.isLoggable(record);
            }
            Formatter formatter = handler.getFormatter();
            if (formatter != null
                    && record.getLevel().intValue() >= handler.getLevel().intValue()) {
                formatter.format(record);
            }
            return false;
        };
    }

    /** Ends this hold; the last one to end gives each handler back its own filter. */
    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) {
                return;
            }
            closed = true;
            if (--holders == 0) {
                before.forEach(Handler::setFilter);
                before = Map.of();
            }
        }
    }
}
