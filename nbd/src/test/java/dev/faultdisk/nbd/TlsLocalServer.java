package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import org.bouncycastle.tls.CipherSuite;

/**
 * A server on 127.0.0.1 (or a Unix socket) that requires TLS, over one memory export {@code d}, and its
 * well-behaved clients: {@code x509} (certificates made by openssl; {@code x509-jdk} the same on
 * the JDK's engine rather than Bouncy Castle's handshake, {@link CertTls#SWITCH}), {@code psk-tls13}, {@code
 * psk-gcm} or {@code psk-cbc} (a pre-shared key for "alice", the clients offering TLS 1.3 in
 * AES-128-GCM, as GnuTLS's do, or TLS 1.2's DHE-PSK with AES-128-GCM, or ECDHE-PSK with
 * AES-128-CBC).
 */
final class TlsLocalServer implements AutoCloseable {
    private final String kind;
    private final ExportRegistry registry = new ExportRegistry();
    private final NbdServer server;
    private final TestPki pki;
    private final byte[] key = new byte[32];
    /** The Unix socket served, or null for TCP. */
    private final Path socket;

    TlsLocalServer(String kind, Path dir, String exportSize) throws IOException {
        this(kind, dir, exportSize, null);
    }

    /** With {@code socket}, on that Unix socket instead (x509 clients only). */
    TlsLocalServer(String kind, Path dir, String exportSize, Path socket) throws IOException {
        this(kind, dir, ExportSpec.parse("d=memory:" + exportSize).openBackend(), socket);
    }

    /** Over {@code backend} as export {@code d}, on TCP. */
    TlsLocalServer(String kind, Path dir, BlockDevice backend) throws IOException {
        this(kind, dir, backend, null);
    }

    private TlsLocalServer(String kind, Path dir, BlockDevice backend, Path socket) throws IOException {
        this.kind = kind;
        this.socket = socket;
        new Random(3).nextBytes(key);
        registry.add(new Export("d", backend, false));
        NbdServer.Options options;
        if (kind.startsWith("x509")) {
            pki = TestPki.create(dir.resolve("pki"));
            options = NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, TlsCredentials.server(pki.dir(), false));
        } else {
            pki = null;
            Path keys = dir.resolve("keys.psk");
            Files.writeString(keys, "alice:" + HexFormat.of().formatHex(key) + "\n");
            options = NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(keys));
        }
        String engine = System.getProperty(CertTls.SWITCH);
        if (kind.equals("x509-jdk")) {
            System.setProperty(CertTls.SWITCH, "jdk"); // read as the server starts
        }
        try {
            server = new NbdServer(registry, options)
                    .start(socket != null ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress("127.0.0.1", 0));
        } finally {
            if (engine == null) {
                System.clearProperty(CertTls.SWITCH);
            } else {
                System.setProperty(CertTls.SWITCH, engine);
            }
        }
    }

    NbdServer server() {
        return server;
    }

    /**
     * A client of this kind whose TLS layer is Bouncy Castle's, in transmission on {@code d}: for
     * x509 one that does not check the server's certificate (TCP only).
     */
    RawNbdClient openWithBouncyCastle() throws IOException {
        return kind.startsWith("x509") ? RawNbdClient.openX509WithBouncyCastle(server.port(), "d") : open();
    }

    /** A well-behaved client of this kind, in transmission on {@code d}. */
    RawNbdClient open() throws IOException {
        return switch (kind) {
            case "x509", "x509-jdk" -> {
                var context = TlsCredentials.client(pki.caOnly()).context();
                yield socket != null
                        ? RawNbdClient.openTls(socket, "d", context)
                        : RawNbdClient.openTls(server.port(), "d", context);
            }
            case "psk-tls13" ->
                RawNbdClient.openPsk(server.port(), "d", "alice", key, CipherSuite.TLS_AES_128_GCM_SHA256);
            case "psk-gcm" ->
                RawNbdClient.openPsk(server.port(), "d", "alice", key, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256);
            default ->
                RawNbdClient.openPsk(
                        server.port(), "d", "alice", key, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256);
        };
    }

    @Override
    public void close() throws IOException {
        server.shutdown(Duration.ofSeconds(5));
        registry.close();
    }
}
