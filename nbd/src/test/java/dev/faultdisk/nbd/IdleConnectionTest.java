package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Idle connections cost little: while a connection waits for its next request it holds only a
 * small input buffer (its input, reply and scratch buffers go back to the pool), and once idle
 * for a second its reader is a virtual thread, not a platform thread. Each still serves when a
 * request comes, and busy connections are read by platform threads; over TCP and over a Unix socket.
 */
class IdleConnectionTest {
    private static final int CONNECTIONS = 40;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void idleConnectionsHoldASmallBufferAndNoPlatformThreadAndStillServe(boolean unix, @TempDir Path dir)
            throws Exception {
        // A Unix socket has no timed read: its platform reader polls the socket to wait the idle time.
        try (LocalServer server = unix
                ? LocalServer.onUnixSocket(dir.resolve("nbd.sock"), "d=memory:16M")
                : new LocalServer("d=memory:16M")) {
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
                // Each idle connection keeps its small buffer and nothing else, and once idle for
                // the idle time (1 s) its reader is a virtual thread again.
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertEquals(
                            CONNECTIONS * (long) ConnectionInput.IDLE,
                            server.server().heldBufferBytes(),
                            "buffer bytes held by " + CONNECTIONS + " idle connections");
                    List<String> platformReaders = LiveThreads.platformReaders();
                    assertTrue(platformReaders.isEmpty(), "idle connections on platform threads: " + platformReaders);
                });
                for (RawNbdClient c : clients) {
                    server.assertServes(c);
                }
                assertTrue(
                        !LiveThreads.platformReaders().isEmpty(),
                        "connections that just served are read by platform threads");
            } finally {
                for (RawNbdClient c : clients) {
                    c.close();
                }
            }
        }
    }
}
