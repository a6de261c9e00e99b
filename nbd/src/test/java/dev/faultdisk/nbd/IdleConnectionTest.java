package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Idle connections cost little: while a connection waits for its next request it holds only a
 * small input buffer (its input, reply and scratch buffers go back to the pool), and its reader
 * is a virtual thread, not a platform thread. Each still serves when a request comes.
 */
class IdleConnectionTest {
    private static final int CONNECTIONS = 40;

    @Test
    void idleConnectionsHoldASmallBufferAndNoPlatformThreadAndStillServe() throws Exception {
        try (LocalServer server = new LocalServer("d=memory:16M")) {
            List<RawNbdClient> clients = new ArrayList<>();
            try {
                byte[] big = new byte[1 << 20];
                Arrays.fill(big, (byte) 7);
                for (int i = 0; i < CONNECTIONS; i++) {
                    RawNbdClient c = server.open("d");
                    clients.add(c);
                    // A large write and read take the large buffers (scratch, input, replies).
                    c.write(0, big);
                    assertArrayEquals(big, c.read(0, big.length));
                }
                assertEquals(CONNECTIONS, server.server().connectionCount());
                // Each idle connection keeps its 4 KiB buffer and nothing else.
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertEquals(
                                CONNECTIONS * 4096L,
                                server.server().heldBufferBytes(),
                                "buffer bytes held by " + CONNECTIONS + " idle connections"));
                List<String> platformReaders = Thread.getAllStackTraces().keySet().stream()
                        .map(Thread::getName)
                        .filter(n -> n.startsWith("nbd-conn-"))
                        .toList();
                assertTrue(platformReaders.isEmpty(), "connection readers on platform threads: " + platformReaders);
                for (RawNbdClient c : clients) {
                    server.assertServes(c);
                }
            } finally {
                for (RawNbdClient c : clients) {
                    c.close();
                }
            }
        }
    }
}
