package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Idle TLS connections cost what idle plaintext ones do in buffers: after large reads and writes
 * (which take the input and reply buffers, the channel's arrays and, for pre-shared keys with
 * AES-GCM, the record buffer and the cipher's arrays), a connection waiting for its next request
 * holds its 4 KiB buffer and nothing lent, and still serves when a request comes.
 */
class IdleTlsConnectionTest {
    private static final int CONNECTIONS = 6;

    @ParameterizedTest
    @ValueSource(strings = {"x509", "psk-gcm", "psk-cbc"})
    void idleTlsConnectionsHoldTheSmallBufferAloneAndStillServe(String kind, @TempDir Path dir) throws Exception {
        byte[] key = new byte[32];
        new Random(3).nextBytes(key);
        ExportRegistry registry = new ExportRegistry();
        ExportSpec spec = ExportSpec.parse("d=memory:16M");
        registry.add(new Export(spec.name(), spec.openBackend(), false));
        NbdServer.Options options;
        TestPki pki = null;
        if (kind.equals("x509")) {
            pki = TestPki.create(dir.resolve("pki"));
            options = NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, TlsCredentials.server(pki.dir(), false));
        } else {
            Path keys = dir.resolve("keys.psk");
            Files.writeString(keys, "alice:" + HexFormat.of().formatHex(key) + "\n");
            options = NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(keys));
        }
        NbdServer server = new NbdServer(registry, options).start(new InetSocketAddress("127.0.0.1", 0));
        List<RawNbdClient> clients = new ArrayList<>();
        try {
            byte[] big = new byte[1 << 20];
            Arrays.fill(big, (byte) 5);
            for (int i = 0; i < CONNECTIONS; i++) {
                RawNbdClient c = switch (kind) {
                    case "x509" ->
                        RawNbdClient.openTls(
                                server.port(),
                                "d",
                                TlsCredentials.client(pki.caOnly()).context());
                    case "psk-gcm" ->
                        RawNbdClient.openPsk(
                                server.port(), "d", "alice", key, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256);
                    default ->
                        RawNbdClient.openPsk(
                                server.port(), "d", "alice", key, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256);
                };
                clients.add(c);
                c.write(0, big);
                assertArrayEquals(big, c.read(0, big.length));
            }
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertEquals(
                            CONNECTIONS * 4096L,
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
            server.shutdown(Duration.ofSeconds(5));
            registry.close();
        }
    }
}
