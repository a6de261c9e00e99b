package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a client sends in place of TLS after STARTTLS ends its own connection only: bytes that are
 * no TLS record, a record header announcing more than TLS allows, and a valid record header with
 * garbage inside, for certificates (the JDK's engine) and pre-shared keys (Bouncy Castle). The
 * server closes that connection, stays up, and a well-behaved client is served after.
 */
class HostileTlsClientTest {
    @ParameterizedTest
    @ValueSource(strings = {"x509", "x509-jdk", "psk-gcm"})
    void whatIsNoTlsEndsOnlyItsOwnConnection(String kind, @TempDir Path dir) throws Exception {
        TlsLocalServer tls = new TlsLocalServer(kind, dir, "4M");
        NbdServer server = tls.server();
        try {
            byte[] notARecord = new byte[3000];
            new Random(11).nextBytes(notARecord);
            notARecord[0] = 0x47; // "GET ..." rather than a handshake record
            byte[] tooLong = {0x16, 0x03, 0x03, (byte) 0xff, (byte) 0xff, 1, 2, 3};
            byte[] garbageInside = new byte[5 + 200];
            garbageInside[0] = 0x16;
            garbageInside[1] = 0x03;
            garbageInside[2] = 0x01;
            garbageInside[4] = (byte) 200;
            Arrays.fill(garbageInside, 5, garbageInside.length, (byte) 0x5a);
            for (byte[] hostile : new byte[][] {notARecord, tooLong, garbageInside}) {
                try (Socket s = RawNbdClient.startTlsOnly(server.port())) {
                    OutputStream out = s.getOutputStream();
                    out.write(hostile);
                    out.flush();
                    InputStream in = s.getInputStream();
                    // The server answers with an alert at most, then closes: the stream ends
                    // (or is reset, unread bytes being left) within the socket's read timeout
                    // (10 s, which would fail the test).
                    try {
                        while (in.read(new byte[512]) >= 0) {
                            // an alert, if the TLS layer sends one
                        }
                    } catch (SocketException reset) {
                        assertEquals("Connection reset", reset.getMessage());
                    }
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
            try (RawNbdClient c = tls.open()) {
                byte[] block = new byte[4096];
                Arrays.fill(block, (byte) 9);
                c.write(0, block);
                assertArrayEquals(block, c.read(0, block.length), "a well-behaved client after them");
                assertEquals(1, server.connectionCount());
            }
        } finally {
            tls.close();
        }
    }
}
