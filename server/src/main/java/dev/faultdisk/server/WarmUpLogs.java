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
 * another server in the same JVM has its connection lines held for as long.
 */
final class WarmUpLogs implements AutoCloseable {
    private final Map<Handler, Filter> before = new LinkedHashMap<>();

    private WarmUpLogs() {}

    /** Holds back the records of the loggers under {@code prefix} until {@link #close}. */
    static WarmUpLogs hold(String prefix) {
        WarmUpLogs logs = new WarmUpLogs();
        for (Logger l = Logger.getLogger(prefix); l != null; l = l.getParent()) {
            for (Handler h : l.getHandlers()) {
                logs.hold(h, prefix);
            }
            if (!l.getUseParentHandlers()) {
                break;
            }
        }
        return logs;
    }

    private void hold(Handler handler, String prefix) {
        Filter old = handler.getFilter();
        before.put(handler, old);
        handler.setFilter(record -> {
            String name = record.getLoggerName();
            if (name == null || !name.startsWith(prefix)) {
                return old == null || old.isLoggable(record);
            }
            Formatter formatter = handler.getFormatter();
            if (formatter != null
                    && record.getLevel().intValue() >= handler.getLevel().intValue()) {
                formatter.format(record);
            }
            return false;
        });
    }

    /** Gives each handler back its own filter. */
    @Override
    public void close() {
        before.forEach(Handler::setFilter);
    }
}
