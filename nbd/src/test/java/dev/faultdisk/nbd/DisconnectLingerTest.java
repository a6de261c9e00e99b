package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that sends NBD_CMD_DISC may send a little more before it closes (over TLS, its
 * close_notify): the server ends its output and reads that until the client closes, instead of
 * closing with it unread, which resets the connection and fails the client's clean shutdown.
 * A client that never closes is waited for a second at most ({@link LingeringClose}).
 */
class DisconnectLingerTest {
    /** A TLS alert record (close_notify's size), what a TLS client sends after its DISC. */
    private static final byte[] AFTER_DISC = {21, 3, 3, 0, 2, 1, 0};

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void bytesSentAfterTheDisconnectAreReadNotReset(boolean unix, @TempDir Path dir) throws Exception {
        try (LocalServer server = serve(unix, dir);
                RawNbdClient client = server.open("d")) {
            client.disconnect();
            assertTrue(client.endsCleanly(), "the server ends its output after the DISC");
            // Without the wait the server has closed by now: these bytes meet a closed socket, a
            // broken pipe over a Unix socket, a reset over TCP that the next send meets.
            client.sendRaw(AFTER_DISC);
            Thread.sleep(200); // the reset's time to come back over loopback
            client.sendRaw(AFTER_DISC);
            client.shutdownOutput();
            assertTrue(client.endsCleanly(), "the connection was reset");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.server().connectionCount() == 0);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aClientThatNeverClosesIsWaitedForASecondAtMost(boolean unix, @TempDir Path dir) throws Exception {
        try (LocalServer server = serve(unix, dir);
                RawNbdClient client = server.open("d")) {
            long start = System.nanoTime();
            client.disconnect();
            await().atMost(Duration.ofSeconds(10)).until(() -> server.server().connectionCount() == 0);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(
                    millis >= LingeringClose.MILLIS - 50, "closed after " + millis + " ms, before the client closed");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"x509", "x509-jdk", "psk-tls13", "psk-gcm", "psk-cbc"})
    void overTlsTheServerShutsTheSessionDownWithCloseNotify(String kind, @TempDir Path dir) throws Exception {
        // The NBD spec at NBD_CMD_DISC: finish outstanding requests, shut down TLS and close. Bouncy
        // Castle's client reads the server's close_notify as a clean end; without it, an error.
        try (TlsLocalServer server = new TlsLocalServer(kind, dir, "1M");
                RawNbdClient client = server.openWithBouncyCastle()) {
            client.disconnect();
            assertTrue(client.endsCleanly(), "the session ended without close_notify");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.server().connectionCount() == 0);
        }
    }

    private static LocalServer serve(boolean unix, Path dir) throws java.io.IOException {
        return unix ? LocalServer.onUnixSocket(dir.resolve("nbd.sock"), "d=memory:1M") : new LocalServer("d=memory:1M");
    }
}
