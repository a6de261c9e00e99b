package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.Function;
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
    @ValueSource(strings = {"x509", "psk"})
    void whatIsNoTlsEndsOnlyItsOwnConnection(String kind, @TempDir Path dir) throws Exception {
        byte[] key = new byte[32];
        new Random(5).nextBytes(key);
        ExportRegistry registry = new ExportRegistry();
        ExportSpec spec = ExportSpec.parse("d=memory:4M");
        registry.add(new Export(spec.name(), spec.openBackend(), false));
        NbdServer.Options options;
        Function<Integer, RawNbdClient> goodClient;
        if (kind.equals("x509")) {
            TestPki pki = TestPki.create(dir.resolve("pki"));
            options = NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, TlsCredentials.server(pki.dir(), false));
            goodClient = port -> open(() -> RawNbdClient.openTls(
                    port, "d", TlsCredentials.client(pki.caOnly()).context()));
        } else {
            Path keys = dir.resolve("keys.psk");
            Files.writeString(keys, "alice:" + HexFormat.of().formatHex(key) + "\n");
            options = NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(keys));
            goodClient = port -> open(() -> RawNbdClient.openPsk(
                    port, "d", "alice", key, org.bouncycastle.tls.CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256));
        }
        NbdServer server = new NbdServer(registry, options).start(new InetSocketAddress("127.0.0.1", 0));
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
                    } catch (java.net.SocketException reset) {
                        assertEquals("Connection reset", reset.getMessage());
                    }
                }
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
            try (RawNbdClient c = goodClient.apply(server.port())) {
                byte[] block = new byte[4096];
                Arrays.fill(block, (byte) 9);
                c.write(0, block);
                assertArrayEquals(block, c.read(0, block.length), "a well-behaved client after them");
                assertEquals(1, server.connectionCount());
            }
        } finally {
            server.shutdown(Duration.ofSeconds(5));
            registry.close();
        }
    }

    @FunctionalInterface
    private interface Opener {
        RawNbdClient open() throws Exception;
    }

    private static RawNbdClient open(Opener opener) {
        try {
            return opener.open();
        } catch (Exception e) {
            throw new AssertionError("a well-behaved client could not connect", e);
        }
    }
}
