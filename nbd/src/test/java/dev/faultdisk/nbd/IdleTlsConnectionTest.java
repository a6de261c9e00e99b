package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Idle TLS connections cost what idle plaintext ones do in buffers: after large reads and writes
 * (which take the input and reply buffers, the channel's arrays and, for pre-shared keys with
 * AES-GCM, the record buffer and the cipher's arrays), a connection waiting for its next request
 * holds its small buffer ({@link ConnectionInput#IDLE}) and nothing lent, and still serves when a request comes.
 */
class IdleTlsConnectionTest {
    private static final int CONNECTIONS = 6;

    @ParameterizedTest
    @ValueSource(strings = {"x509", "x509-jdk", "psk-tls13", "psk-gcm", "psk-cbc"})
    void idleTlsConnectionsHoldTheSmallBufferAloneAndStillServe(String kind, @TempDir Path dir) throws Exception {
        TlsLocalServer tls = new TlsLocalServer(kind, dir, "16M");
        NbdServer server = tls.server();
        List<RawNbdClient> clients = new ArrayList<>();
        try {
            byte[] big = new byte[1 << 20];
            Arrays.fill(big, (byte) 5);
            for (int i = 0; i < CONNECTIONS; i++) {
                RawNbdClient c = tls.open();
                clients.add(c);
                c.write(0, big);
                assertArrayEquals(big, c.read(0, big.length));
            }
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertEquals(
                            CONNECTIONS * (long) ConnectionInput.IDLE,
                            server.heldBufferBytes(),
                            "buffer bytes held by " + CONNECTIONS + " idle " + kind + " connections"));
            byte[] block = new byte[4096];
            for (int i = 0; i < clients.size(); i++) {
                Arrays.fill(block, (byte) (0x30 + i));
                clients.get(i).write(4096L * (i + 1), block);
                assertArrayEquals(block, clients.get(i).read(4096L * (i + 1), block.length), "connection " + i);
            }
        } finally {
            for (RawNbdClient c : clients) {
                c.close();
            }
            tls.close();
        }
    }
}
