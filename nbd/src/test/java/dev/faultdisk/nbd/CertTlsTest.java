package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * NBD over TLS with certificates through Bouncy Castle's handshake ({@link CertTls}, the
 * default), against the
 * JDK's client, which checks the server's chain and signature itself: each kind of key in TLS 1.3
 * and 1.2, client certificates, named suites, and refusals with their reasons.
 */
class CertTlsTest {
    private static String before;

    /** Bouncy Castle's handshake for this class's servers ({@link CertTls#SWITCH}, read as each starts). */
    @BeforeAll
    static void chooseBouncyCastle() {
        before = System.getProperty(CertTls.SWITCH);
        System.setProperty(CertTls.SWITCH, "bc");
    }

    @AfterAll
    static void restore() {
        if (before == null) {
            System.clearProperty(CertTls.SWITCH);
        } else {
            System.setProperty(CertTls.SWITCH, before);
        }
    }

    @ParameterizedTest(name = "{0} key, {1}")
    @CsvSource({
        "ec:prime256v1, TLSv1.3, TLS_AES_128_GCM_SHA256",
        "ec:prime256v1, TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ec:secp384r1,  TLSv1.3, TLS_AES_128_GCM_SHA256",
        "ec:secp384r1,  TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "rsa:2048,      TLSv1.3, TLS_AES_128_GCM_SHA256",
        "rsa:2048,      TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ed25519,       TLSv1.3, TLS_AES_128_GCM_SHA256",
        "ed25519,       TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    })
    void eachKindOfKeyServesBothVersions(String key, String version, String suite, @TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        Path server = pki.signed(dir.resolve("server"), key, "server");
        try (Served served = serve(TlsCredentials.server(server, false))) {
            assertNotNull(served.server.certTls(), "Bouncy Castle's handshake, not the JDK's engine");
            try (RawNbdClient c = served.client(pki.caOnly(), p -> p.setProtocols(new String[] {version}))) {
                assertEquals(version, c.tlsSession().getProtocol());
                assertEquals(suite, c.tlsSession().getCipherSuite());
                byte[] data = new byte[1 << 20];
                new Random(11).nextBytes(data);
                c.write(4096, data);
                assertArrayEquals(data, c.read(4096, data.length));
                String session = version + " " + suite + (version.equals("TLSv1.3") ? " x25519" : "");
                assertEquals(session, served.server.connections().getFirst().tls());
            }
        }
    }

    @Test
    void aClientCertificateSignedByTheAuthorityIsLetIn(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        try (Served served = serve(TlsCredentials.server(pki.dir(), true))) {
            for (String version : List.of("TLSv1.3", "TLSv1.2")) {
                try (RawNbdClient c = served.client(pki.clientDir(), p -> p.setProtocols(new String[] {version}))) {
                    c.write(0, new byte[] {1, 2, 3});
                    assertArrayEquals(new byte[] {1, 2, 3}, c.read(0, 3));
                    assertEquals(
                            "CN=client,O=faultdisk tests",
                            c.tlsSession().getLocalPrincipal().getName());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} client key, {1}")
    @CsvSource({"rsa:2048, TLSv1.3", "rsa:2048, TLSv1.2", "ed25519, TLSv1.3", "ec:secp384r1, TLSv1.2"})
    void clientCertificatesOfEachKindAreChecked(String key, String version, @TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        Path client = pki.signed(dir.resolve("client"), key, "client");
        try (Served served = serve(TlsCredentials.server(pki.dir(), true));
                RawNbdClient c = served.client(client, p -> p.setProtocols(new String[] {version}))) {
            c.write(0, new byte[] {4, 5});
            assertArrayEquals(new byte[] {4, 5}, c.read(0, 2));
            assertEquals(version, c.tlsSession().getProtocol());
        }
    }

    @ParameterizedTest
    @CsvSource({"TLSv1.3", "TLSv1.2"})
    void aClientWithoutACertificateIsRefusedWithTheReason(String version, @TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        SSLException e = refusal(
                TlsCredentials.server(pki.dir(), true),
                TlsCredentials.client(pki.caOnly()),
                p -> p.setProtocols(new String[] {version}));
        assertTrue(e.getMessage().endsWith("; the client sent no certificate"), e.getMessage());
    }

    @Test
    void aClientCertificateFromAnotherAuthorityIsRefused(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        TestPki other = TestPki.create(dir.resolve("other"));
        // Trusts the server's authority, presents a certificate the other one signed.
        Path client = Files.createDirectories(dir.resolve("stranger"));
        Files.copy(pki.dir().resolve("ca-cert.pem"), client.resolve("ca-cert.pem"));
        Files.copy(other.dir().resolve("client-cert.pem"), client.resolve("client-cert.pem"));
        Files.copy(other.dir().resolve("client-key.pem"), client.resolve("client-key.pem"));
        SSLException e = refusal(TlsCredentials.server(pki.dir(), true), TlsCredentials.client(client), p -> {});
        assertTrue(e.getMessage().contains("; the client's certificate is not trusted: "), e.getMessage());
    }

    @Test
    void aClientAcceptingNoSignatureTheKeyMakesIsRefusedWithTheReason(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        // A P-256 key signs ecdsa_secp256r1_sha256 in TLS 1.3: a client that takes only P-384's cannot agree.
        SSLException e = refusal(TlsCredentials.server(pki.dir(), false), TlsCredentials.client(pki.caOnly()), p -> {
            p.setProtocols(new String[] {"TLSv1.3"});
            p.setSignatureSchemes(new String[] {"ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha256"});
        });
        assertTrue(e.getMessage().endsWith("; the client accepts no signature a ECDSA_P256 key makes"), e.getMessage());
    }

    @Test
    void namedSuitesAreOfferedInTheirOrder(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        TlsCredentials credentials = TlsCredentials.server(pki.dir(), false)
                .withSuites(List.of(
                        "TLS_AES_256_GCM_SHA384",
                        "TLS_CHACHA20_POLY1305_SHA256",
                        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", // an RSA key's: left out for this EC key
                        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
        try (Served served = serve(credentials)) {
            assertNotNull(served.server.certTls());
            try (RawNbdClient c = served.client(pki.caOnly(), p -> {})) {
                assertEquals("TLS_AES_256_GCM_SHA384", c.tlsSession().getCipherSuite());
            }
            try (RawNbdClient c = served.client(pki.caOnly(), p -> p.setProtocols(new String[] {"TLSv1.2"}))) {
                assertEquals(
                        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                        c.tlsSession().getCipherSuite());
                c.write(0, new byte[70_000]); // more than one record, through ChaCha20-Poly1305's path
                assertArrayEquals(new byte[70_000], c.read(0, 70_000));
            }
        }
    }

    @Test
    void suitesForAnotherKindOfKeyAloneLeaveTheServerOnTheJdksEngine(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        TlsCredentials credentials =
                TlsCredentials.server(pki.dir(), false).withSuites(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assertNull(CertTls.of(credentials), "an EC key has no suite left of these");
    }

    @Test
    void aSuiteOutsideItsListsLeavesTheServerOnTheJdksEngine(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        TlsCredentials credentials = TlsCredentials.server(pki.dir(), false)
                .withSuites(List.of("TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"));
        try (Served served = serve(credentials)) {
            assertNull(served.server.certTls());
            try (RawNbdClient c = served.client(pki.caOnly(), p -> {})) {
                assertEquals("TLS_AES_128_GCM_SHA256", c.tlsSession().getCipherSuite());
                c.write(0, new byte[] {9});
                assertArrayEquals(new byte[] {9}, c.read(0, 1));
            }
        }
    }

    @Test
    void aClientsCredentialsAndAContextAloneStayOnTheJdksEngine(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        assertNull(CertTls.of(TlsCredentials.client(pki.clientDir())));
        TlsCredentials files = TlsCredentials.server(pki.dir(), false);
        TlsCredentials contextAlone = new TlsCredentials(files.context(), true, false, null);
        assertNull(CertTls.of(contextAlone));
        try (Served served = serve(contextAlone);
                RawNbdClient c = served.client(pki.caOnly(), p -> {})) {
            c.write(0, new byte[] {7});
            assertArrayEquals(new byte[] {7}, c.read(0, 1));
        }
    }

    /**
     * AES-CCM's suites, which the JDK lacks, may be named (by IANA's names) and only Bouncy
     * Castle's handshake offers them; where the JDK's engine must serve, a list of them alone stops
     * the server, and beside a suite the JDK has they are left out there.
     */
    @Test
    void aesCcmMayBeNamedAndOnlyBouncyCastlesHandshakeOffersIt(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        List<String> beyond = CertTls.suitesBeyondJdk();
        assertTrue(
                beyond.containsAll(List.of(
                        "TLS_AES_128_CCM_SHA256",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
                        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
                        "TLS_DHE_RSA_WITH_AES_128_CCM",
                        "TLS_DHE_RSA_WITH_AES_256_CCM")),
                beyond.toString());
        assertFalse(beyond.contains("TLS_AES_128_GCM_SHA256"), beyond.toString());
        TlsCredentials ccm = TlsCredentials.server(pki.dir(), false)
                .withSuites(List.of("TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "TLS_AES_128_CCM_SHA256"), beyond);
        assertArrayEquals(
                new int[] {CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CCM, CipherSuite.TLS_AES_128_CCM_SHA256},
                CertTls.of(ccm).suites());
        TlsCredentials mixed = TlsCredentials.server(pki.dir(), false)
                .withSuites(List.of("TLS_AES_128_CCM_SHA256", "TLS_AES_256_GCM_SHA384"), beyond);
        System.setProperty(CertTls.SWITCH, "jdk");
        try {
            IllegalArgumentException alone = assertThrows(IllegalArgumentException.class, () -> CertTls.of(ccm));
            assertTrue(
                    alone.getMessage().contains("TLS_ECDHE_ECDSA_WITH_AES_256_CCM,TLS_AES_128_CCM_SHA256"),
                    alone.getMessage());
            try (Served served = serve(mixed);
                    RawNbdClient c = served.client(pki.caOnly(), p -> {})) {
                assertNull(served.server.certTls());
                assertEquals("TLS_AES_256_GCM_SHA384", c.tlsSession().getCipherSuite());
            }
        } finally {
            System.setProperty(CertTls.SWITCH, "bc");
        }
    }

    @Test
    void bouncyCastlesServesUnlessTheJdksIsChosen(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        TlsCredentials credentials = TlsCredentials.server(pki.dir(), false);
        System.clearProperty(CertTls.SWITCH);
        try {
            assertNotNull(CertTls.of(credentials), "the default");
            System.setProperty(CertTls.SWITCH, "jdk");
            assertNull(CertTls.of(credentials));
        } finally {
            System.setProperty(CertTls.SWITCH, "bc");
        }
    }

    /** The server's failure for a client with {@code client}'s credentials and {@code tune}'s parameters. */
    private static SSLException refusal(TlsCredentials server, TlsCredentials client, Consumer<SSLParameters> tune)
            throws Exception {
        CertTls tls = CertTls.of(server);
        assertNotNull(tls);
        try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                Socket plain = new Socket(listener.getInetAddress(), listener.getLocalPort());
                Socket accepted = listener.accept()) {
            CompletableFuture<Void> clientSide = CompletableFuture.runAsync(() -> {
                try (SSLSocket s =
                        (SSLSocket) client.context().getSocketFactory().createSocket(plain, "localhost", 0, true)) {
                    SSLParameters params = s.getSSLParameters();
                    tune.accept(params);
                    s.setSSLParameters(params);
                    s.startHandshake();
                    s.getInputStream().read(); // TLS 1.3: the server's refusal of a certificate comes after
                } catch (IOException e) {
                    // refused, as it should be
                }
            });
            SSLException e = assertThrows(SSLException.class, () -> tls.handshake(accepted, new byte[0], 10_000));
            accepted.close();
            clientSide.get(10, TimeUnit.SECONDS);
            assertTrue(e.getMessage().startsWith("TLS handshake failed: "), e.getMessage());
            return e;
        }
    }

    private static Served serve(TlsCredentials credentials) throws IOException {
        ExportRegistry registry = new ExportRegistry();
        registry.add(new Export("d", ExportSpec.parse("d=memory:4M").openBackend(), false));
        NbdServer server = new NbdServer(registry, NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, credentials))
                .start(new InetSocketAddress("127.0.0.1", 0));
        return new Served(server);
    }

    private record Served(NbdServer server) implements AutoCloseable {
        /** A JDK client with the credentials in {@code dir} (checking the server's chain), in transmission on d. */
        RawNbdClient client(Path dir, Consumer<SSLParameters> tune) throws IOException {
            return RawNbdClient.openTls(
                    server.port(), "d", TlsCredentials.client(dir).context(), tune);
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
