package dev.faultdisk.cli;

import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * One-line log records on stderr: FAULTDISK_LOG sets the level (info shows each NBD connection
 * and why it closed; debug more), FAULTDISK_LOG_FORMAT=json makes each line a JSON object.
 */
final class LogSetup {
    /**
     * The JDK logs every Runtime.exit at debug level with a stack trace, so SIGTERM (exit 143)
     * would print one under FAULTDISK_LOG=debug; held here because JUL keeps loggers weakly.
     */
    private static final Logger RUNTIME_EXIT = Logger.getLogger("java.lang.Runtime");

    private LogSetup() {}

    static void configure() {
        configure(System.getenv().getOrDefault("FAULTDISK_LOG", "info"));
    }

    static void configure(String wanted) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        Level level = switch (wanted.toLowerCase(Locale.ROOT)) {
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            case "warn", "warning" -> Level.WARNING;
            default -> Level.INFO;
        };
        ConsoleHandler handler = new ConsoleHandler();
        boolean json = "json".equalsIgnoreCase(System.getenv().getOrDefault("FAULTDISK_LOG_FORMAT", "text"));
        handler.setFormatter(json ? new JsonLogFormatter() : new SimpleFormatter());
        handler.setLevel(level);
        root.addHandler(handler);
        root.setLevel(level);
        RUNTIME_EXIT.setLevel(Level.INFO);
    }
}
