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
 * A connection's log lines name it as every other place does: connection 1000 is "1000", not the
 * "1,000" a logger's MessageFormat makes of a number (or "1.000", as the locale groups digits).
 */
class ConnectionLogLineTest {
    private static final int CONNECTIONS = 1000;

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
