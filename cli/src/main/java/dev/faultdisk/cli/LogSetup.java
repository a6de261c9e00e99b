package dev.faultdisk.cli;

import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** One-line log records on stderr; FAULTDISK_LOG=debug shows connection-level detail. */
final class LogSetup {
    private LogSetup() {}

    static void configure() {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        String wanted = System.getenv().getOrDefault("FAULTDISK_LOG", "info");
        Level level = switch (wanted.toLowerCase(Locale.ROOT)) {
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            case "warn", "warning" -> Level.WARNING;
            default -> Level.INFO;
        };
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new SimpleFormatter());
        handler.setLevel(level);
        root.addHandler(handler);
        root.setLevel(level);
    }
}
