package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates that are not there are said so, naming the file the server looked for; a server
 * prefers AES-128-GCM unless told its suites, and a suite it cannot use is refused by name.
 */
class TlsCredentialsTest {
    @Test
    void aDirectoryWithoutCertificatesIsRefusedNamingTheMissingFile(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> TlsCredentials.server(dir, false));
        assertEquals(
                "TLS credentials: cannot read " + dir.resolve("ca-cert.pem") + ": no such file or directory",
                e.getMessage());
    }

    /** Only twins change places: the key exchanges keep the JDK's order, no suite is added or lost. */
    @Test
    void theDefaultOrderSwapsEachAes256GcmSuiteWithItsAes128Twin(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        String[] jdk = ctx.createSSLEngine().getEnabledCipherSuites();
        List<String> order = List.of(new TlsCredentials(ctx, true, false, dir).preferred(jdk));

        assertEquals(
                Arrays.stream(jdk).sorted().toList(), order.stream().sorted().toList());
        assertTrue(order.indexOf("TLS_AES_128_GCM_SHA256") < order.indexOf("TLS_AES_256_GCM_SHA384"), order::toString);
        int swapped = 0;
        for (int i = 0; i < jdk.length; i++) {
            if (!jdk[i].equals(order.get(i))) {
                assertEquals(twin(jdk[i]), twin(order.get(i)), "position " + i + ": " + order);
                swapped++;
            }
        }
        assertTrue(swapped >= 2, "the JDK lists AES-256-GCM first, so something moves: " + order);
    }

    @Test
    void aJdkClientAgreesOnAes128GcmUnlessTheServerNamesItsSuites(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        TlsCredentials server = new TlsCredentials(ctx, true, false, dir);
        List<String> offered = List.of(ctx.createSSLEngine().getEnabledCipherSuites());
        assertTrue(
                offered.indexOf("TLS_AES_256_GCM_SHA384") < offered.indexOf("TLS_AES_128_GCM_SHA256"),
                "the client prefers AES-256-GCM, so the server's order decides: " + offered);

        // The JDK's client sends an X25519 key share, which the server then takes alone.
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 x25519", agreed(ctx, server));
        assertEquals(
                "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 x25519",
                agreed(ctx, server.withSuites(List.of("TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"))));
        assertEquals(
                "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", // TLS 1.2: the groups as they were
                agreed(ctx, server.withSuites(List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))));
    }

    /**
     * X25519's share is taken even after secp256r1's (GnuTLS's order; the JDK's client sends one
     * share of each kind of group, in its order), and a client sharing secp256r1 alone gets it
     * with no HelloRetryRequest for X25519 (the JDK's client would follow one, and the server
     * would name X25519); the server's certificate is an EC P-256 one either way.
     */
    @Test
    void x25519IsTakenWhereTheClientSharesItAndSecp256r1WhereAlone(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        TlsCredentials server = new TlsCredentials(ctx, true, false, dir);
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 x25519", agreed(ctx, server, "secp256r1", "x25519"));
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256", agreed(ctx, server, "secp256r1"));
    }

    @Test
    void anUnknownOrDisabledSuiteIsRefusedByName(@TempDir Path dir) throws Exception {
        TlsCredentials server = new TlsCredentials(TestTls.context(dir), true, false, dir);
        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class,
                () -> server.withSuites(List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA999")));
        assertTrue(
                unknown.getMessage()
                        .startsWith("unknown or disabled cipher suite 'TLS_AES_128_GCM_SHA999'; the usable ones: "),
                unknown.getMessage());
        assertTrue(unknown.getMessage().contains("TLS_AES_256_GCM_SHA384"), unknown.getMessage());
        // Supported by the JDK but disabled (jdk.tls.disabledAlgorithms): no client could agree on it.
        assertThrows(IllegalArgumentException.class, () -> server.withSuites(List.of("SSL_RSA_WITH_3DES_EDE_CBC_SHA")));
        assertThrows(IllegalArgumentException.class, () -> server.withSuites(List.of()));
        assertThrows(IllegalArgumentException.class, () -> server.withSuites(List.of("", " ")));
        // A signal, not a suite: alone it would leave clients nothing to agree on.
        assertThrows(
                IllegalArgumentException.class, () -> server.withSuites(List.of("TLS_EMPTY_RENEGOTIATION_INFO_SCSV")));
        assertEquals(
                List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"),
                server.withSuites(List.of(
                                " TLS_AES_256_GCM_SHA384", "", "TLS_AES_128_GCM_SHA256 ", "TLS_AES_256_GCM_SHA384"))
                        .suites(),
                "as typed: spaces, empty entries and repeats left out");
    }

    @Test
    void suitesTheServersOwnHandshakeServesAreTakenAndTheJdksEngineLeavesThemOut(@TempDir Path dir) throws Exception {
        TlsCredentials server = new TlsCredentials(TestTls.context(dir), true, false, dir);
        List<String> ccm = List.of("TLS_AES_128_CCM_SHA256");
        assertThrows(IllegalArgumentException.class, () -> server.withSuites(ccm), "the JDK has no AES-CCM");
        TlsCredentials named = server.withSuites(List.of("TLS_AES_128_CCM_SHA256", "TLS_AES_256_GCM_SHA384"), ccm);
        assertEquals(List.of("TLS_AES_128_CCM_SHA256", "TLS_AES_256_GCM_SHA384"), named.suites());
        assertEquals(List.of("TLS_AES_256_GCM_SHA384"), named.jdkSuites());
        assertArrayEquals(
                new String[] {"TLS_AES_256_GCM_SHA384"},
                named.preferred(new String[] {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}));
        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class, () -> server.withSuites(List.of("TLS_AES_128_CCM_8_SHA256"), ccm));
        assertTrue(unknown.getMessage().contains(",TLS_AES_128_CCM_SHA256"), unknown.getMessage());
    }

    /** The name with its AES key size taken out: twins share it. */
    private static String twin(String suite) {
        return suite.replace("_AES_256_GCM_SHA384", "_AES_GCM").replace("_AES_128_GCM_SHA256", "_AES_GCM");
    }

    /**
     * The protocol and suite a JDK client offering its defaults ({@code groups}: these named
     * groups, in this order) agrees on with {@code server}, as the server names the session. The
     * client reaches the server through a relay that keeps what the server sends first: in TLS
     * 1.3 the ServerHello's key share must be of the group the server names (X25519), or of
     * secp256r1 where it names none.
     */
    private static String agreed(SSLContext ctx, TlsCredentials server, String... groups) throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ByteArrayOutputStream fromServer = new ByteArrayOutputStream();
        try (ServerSocket listener = new ServerSocket(0, 1, loopback);
                ServerSocket relay = new ServerSocket(0, 1, loopback);
                Socket plain = new Socket(loopback, relay.getLocalPort());
                Socket relayed = relay.accept();
                Socket toServer = new Socket(loopback, listener.getLocalPort());
                Socket accepted = listener.accept()) {
            plain.setSoTimeout(30_000); // a server end that failed answers nothing
            Thread.ofVirtual().start(() -> copy(relayed, toServer, null));
            Thread.ofVirtual().start(() -> copy(toServer, relayed, fromServer));
            CompletableFuture<StreamChannel> secured = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.secure(accepted, new byte[0], null, 30_000);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try (SSLSocket client = (SSLSocket)
                    ctx.getSocketFactory().createSocket(plain, "localhost", listener.getLocalPort(), false)) {
                client.setUseClientMode(true);
                if (groups.length > 0) {
                    SSLParameters params = client.getSSLParameters();
                    params.setNamedGroups(groups);
                    client.setSSLParameters(params);
                }
                client.startHandshake();
                try (StreamChannel channel = secured.get(30, TimeUnit.SECONDS)) {
                    String session = client.getSession().getProtocol() + " "
                            + client.getSession().getCipherSuite();
                    assertTrue(channel.session().startsWith(session), "both ends agree: " + channel.session());
                    if (session.startsWith("TLSv1.3")) {
                        byte[] sent;
                        synchronized (fromServer) {
                            sent = fromServer.toByteArray();
                        }
                        assertEquals(
                                channel.session().endsWith(" x25519") ? 0x001d : 0x0017,
                                serverHelloGroup(sent),
                                "the ServerHello's key share");
                    }
                    return channel.session();
                }
            }
        }
    }

    /** Copies {@code from} to {@code to} until either closes, keeping the first 4 KiB in {@code tap}. */
    private static void copy(Socket from, Socket to, ByteArrayOutputStream tap) {
        byte[] buf = new byte[16384];
        try {
            int n;
            while ((n = from.getInputStream().read(buf)) > 0) {
                if (tap != null) {
                    synchronized (tap) {
                        tap.write(buf, 0, Math.min(n, Math.max(0, 4096 - tap.size())));
                    }
                }
                to.getOutputStream().write(buf, 0, n);
            }
        } catch (IOException e) {
            // one end closed
        }
    }

    /** The key share's group in the ServerHello at the start of {@code bytes} (RFC 8446, 4.1.3). */
    private static int serverHelloGroup(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertEquals(22, b.get(), "a handshake record");
        b.position(TlsRecordHeader.SIZE);
        assertEquals(2, b.get(), "a ServerHello");
        b.position(b.position() + 3 + 2 + 32); // length, legacy_version, random
        int sessionId = b.get() & 0xff;
        b.position(b.position() + sessionId + 2 + 1); // session id, suite, compression
        int extensions = b.getShort() & 0xffff;
        int end = b.position() + extensions;
        while (b.position() < end) {
            int type = b.getShort() & 0xffff;
            int length = b.getShort() & 0xffff;
            if (type == 51) {
                return b.getShort() & 0xffff;
            }
            b.position(b.position() + length);
        }
        return -1;
    }
}
