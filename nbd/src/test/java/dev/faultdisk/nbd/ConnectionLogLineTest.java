package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.Test;

/**
 * A connection's log lines: they name it as every other place does, connection 1000 is "1000", not the
 * "1,000" a logger's MessageFormat makes of a number (or "1.000", as the locale groups digits),
 * and the closing one is logged before the server's shutdown returns.
 */
class ConnectionLogLineTest {
    private static final int CONNECTIONS = 1000;

    /**
     * A server's shutdown returns only once its connections' closing lines are logged, so a
     * caller that holds the lines back (the warm-up's private server) holds them all: the handler
     * here takes 300 ms over a closing line.
     */
    @Test
    void shutdownReturnsAfterTheClosingLines() throws Exception {
        Logger logger = Logger.getLogger(Connection.class.getName());
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler slow = new Handler() {
            @Override
            public void publish(LogRecord record) {
                String line = new SimpleFormatter().formatMessage(record);
                if (line.contains(" closed: ")) {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                lines.add(line);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(slow);
        try (LocalServer server = new LocalServer("d=memory:1M");
                Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.getInputStream().readNBytes(18); // the greeting: the connection is open
            server.server().close();
            assertTrue(
                    lines.stream()
                            .anyMatch(line -> line.startsWith("NBD connection 1 from ") && line.contains(" closed: ")),
                    () -> "no closing line when close() returned: " + lines);
        } finally {
            logger.removeHandler(slow);
        }
    }

    @Test
    void theThousandthConnectionIsNamedWithoutGrouping() throws Exception {
        Logger logger = Logger.getLogger(Connection.class.getName());
        List<String> lines = new CopyOnWriteArrayList<>();
        SimpleFormatter formatter = new SimpleFormatter();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                lines.add(formatter.formatMessage(record));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try (LocalServer server = new LocalServer("d=memory:1M")) {
            for (int i = 0; i < CONNECTIONS; i++) {
                try (Socket socket = new Socket("127.0.0.1", server.port())) {
                    InputStream in = socket.getInputStream();
                    in.readNBytes(18); // the greeting: the connection is open
                }
            }
            // One line as each connection closes.
            await().atMost(Duration.ofSeconds(10)).until(() -> lines.size() >= CONNECTIONS);
            String closed = "NBD connection " + CONNECTIONS + " from ";
            assertTrue(
                    lines.stream().anyMatch(line -> line.startsWith(closed)),
                    () -> "no line starts '" + closed + "'; the last: " + lines.getLast());
            assertTrue(
                    lines.stream().noneMatch(line -> line.matches(".*connection \\d{1,3}[,.\\u00a0\\u202f]\\d{3}.*")),
                    () -> "a connection named with grouped digits: " + lines.getLast());
        } finally {
            logger.removeHandler(handler);
        }
    }
}
