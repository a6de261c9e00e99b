package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.ControlSecurity;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.TlsCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QMP socket's TLS, shared secret, session budget and Unix socket permissions (docs/SECURITY.md). */
class QmpSecurityTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private static FaultdiskServer start(ControlEndpoint endpoint, SocketAddress qmp) throws IOException {
        return FaultdiskServer.builder()
                .export("d=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(qmp)
                .qmpEndpoint(endpoint)
                .start();
    }

    @Test
    void tlsAndSecretAdmitOnlyAClientThatHasBoth(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        ControlEndpoint endpoint = ControlEndpoint.defaults()
                .withTls(TlsCredentials.server(pki.dir(), false))
                .withSecret("open sesame")
                .withHandshakeMillis(1000);
        try (FaultdiskServer server = start(endpoint, new InetSocketAddress("127.0.0.1", 0))) {
            SocketAddress address = server.qmpAddresses().getFirst();
            ControlSecurity tls = ControlSecurity.tls(pki.caOnly());
            try (FaultdiskClient client = FaultdiskClient.connect(address, TIMEOUT, tls.withSecret("open sesame"))) {
                assertTrue(client.serverVersion().startsWith("faultdisk"), client.serverVersion());
                client.execute("query-block");
            }
            IOException wrong = assertThrows(
                    IOException.class, () -> FaultdiskClient.connect(address, TIMEOUT, tls.withSecret("guess")));
            assertTrue(wrong.getMessage().contains("requires a shared secret"), wrong.getMessage());
            IOException none = assertThrows(IOException.class, () -> FaultdiskClient.connect(address, TIMEOUT, tls));
            assertTrue(none.getMessage().contains("requires a shared secret"), none.getMessage());
            IOException plain = assertThrows(IOException.class, () -> FaultdiskClient.connect(address, TIMEOUT));
            assertFalse(plain.getMessage().isEmpty());
            // The server ends a refused session on its own thread, a moment after the client gave up.
            await("the refused sessions ended")
                    .atMost(TIMEOUT)
                    .until(() -> server.qmp().sessionCount() == 0);
        }
    }

    /** TLS on a Unix socket listener, with the Java client: a Unix channel has no Socket of its own. */
    @Test
    void tlsOverAUnixSocket(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        ControlEndpoint endpoint = ControlEndpoint.defaults().withTls(TlsCredentials.server(pki.dir(), false));
        try (FaultdiskServer server = start(endpoint, UnixDomainSocketAddress.of(dir.resolve("qmp.sock")))) {
            SocketAddress address = server.qmpAddresses().getFirst();
            try (FaultdiskClient client =
                    FaultdiskClient.connect(address, TIMEOUT, ControlSecurity.tls(pki.caOnly()))) {
                assertTrue(client.serverVersion().startsWith("faultdisk"), client.serverVersion());
                client.execute("query-block");
            }
        }
    }

    @Test
    void verifyPeerRefusesAClientWithoutCertificate(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        ControlEndpoint endpoint = ControlEndpoint.defaults().withTls(TlsCredentials.server(pki.dir(), true));
        try (FaultdiskServer server = start(endpoint, new InetSocketAddress("127.0.0.1", 0))) {
            SocketAddress address = server.qmpAddresses().getFirst();
            try (FaultdiskClient client =
                    FaultdiskClient.connect(address, TIMEOUT, ControlSecurity.tls(pki.clientDir()))) {
                client.execute("query-block");
            }
            assertThrows(
                    IOException.class,
                    () -> FaultdiskClient.connect(address, TIMEOUT, ControlSecurity.tls(pki.caOnly()))
                            .close());
        }
    }

    @Test
    void theCliSpeaksTlsWithASecret(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "s3cret\n");
        ControlEndpoint endpoint = ControlEndpoint.defaults()
                .withTls(TlsCredentials.server(pki.dir(), false))
                .withSecret("s3cret");
        try (FaultdiskServer server = start(endpoint, new InetSocketAddress("127.0.0.1", 0))) {
            InetSocketAddress qmp = (InetSocketAddress) server.qmpAddresses().getFirst();
            List<String> overTls = List.of(
                    "faults",
                    "list",
                    "--qmp",
                    "127.0.0.1:" + qmp.getPort(),
                    "--qmp-tls-certificates",
                    pki.caOnly().toString());
            var ok = FaultdiskCli.run(args(overTls, "--qmp-secret-file", secret.toString(), "d"));
            assertEquals(0, ok.exit(), ok.toString());
            var refused = FaultdiskCli.run(args(overTls, "d"));
            assertTrue(refused.stderr().contains("requires a shared secret"), refused.toString());
        }
    }

    @Test
    void sessionsPastTheBudgetAreRefusedNamingTheLimit() throws Exception {
        try (FaultdiskServer server =
                start(ControlEndpoint.defaults().withMaxSessions(3), new InetSocketAddress("127.0.0.1", 0))) {
            InetSocketAddress qmp = (InetSocketAddress) server.qmpAddresses().getFirst();
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket s = new Socket("127.0.0.1", qmp.getPort());
                    held.add(s);
                    assertTrue(firstLine(s.getInputStream()).contains("\"QMP\""));
                }
                try (Socket extra = new Socket("127.0.0.1", qmp.getPort())) {
                    String line = firstLine(extra.getInputStream());
                    assertTrue(line.contains("GenericError") && line.contains("too many QMP sessions"), line);
                }
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            // The refused client disturbed nothing: once the others leave, a client gets in.
            org.awaitility.Awaitility.await("sessions closed")
                    .atMost(TIMEOUT)
                    .until(() -> server.qmp().sessionCount() == 0);
            try (FaultdiskClient client = FaultdiskClient.connect(qmp, TIMEOUT)) {
                client.execute("query-block");
            }
        }
    }

    @Test
    void anUnfinishedMessagePastTheSessionBudgetIsAnErrorNamingIt() throws Exception {
        try (FaultdiskServer server = start(
                ControlEndpoint.defaults().withMaxSessionBytes(64 * 1024), new InetSocketAddress("127.0.0.1", 0))) {
            InetSocketAddress qmp = (InetSocketAddress) server.qmpAddresses().getFirst();
            try (Socket s = new Socket("127.0.0.1", qmp.getPort())) {
                InputStream in = s.getInputStream();
                firstLine(in);
                byte[] flood = ("[" + "1,".repeat(40_000)).getBytes(StandardCharsets.US_ASCII);
                s.getOutputStream().write(flood);
                String line = firstLine(in);
                assertTrue(line.contains("limit exceeded") && line.contains("max-session-bytes"), line);
            }
        }
    }

    @Test
    void unixSocketsAreOwnerOnlyAndAnotherFileIsNeverReplaced(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (FaultdiskServer server = start(ControlEndpoint.defaults(), UnixDomainSocketAddress.of(socket))) {
            assertEquals(
                    UnixDomainSocketAddress.of(socket), server.qmpAddresses().getFirst());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            try (FaultdiskClient client = FaultdiskClient.connect(socket)) {
                client.execute("query-block");
            }
        }
        Path file = dir.resolve("precious.txt");
        Files.writeString(file, "keep me");
        IOException refused = assertThrows(
                IOException.class, () -> start(ControlEndpoint.defaults(), UnixDomainSocketAddress.of(file)));
        assertTrue(refused.getMessage().contains("not a socket"), refused.getMessage());
        assertEquals("keep me", Files.readString(file));

        Path shared = dir.resolve("shared.sock");
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("d=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(UnixDomainSocketAddress.of(shared), "0660")
                .start()) {
            assertEquals(
                    UnixDomainSocketAddress.of(shared), server.qmpAddresses().getFirst());
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)));
        }
        // The NBD socket too: a regular file there is refused and kept.
        IOException nbd = assertThrows(
                IOException.class,
                () -> FaultdiskServer.builder()
                        .export("d=memory:1M")
                        .nbd(UnixDomainSocketAddress.of(file))
                        .start());
        assertTrue(nbd.getMessage().contains("not a socket"), nbd.getMessage());
        assertEquals("keep me", Files.readString(file));
    }

    private static String firstLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
            line.append((char) b);
        }
        return line.toString();
    }

    /** {@code common} followed by {@code more}, as one command line. */
    private static String[] args(List<String> common, String... more) {
        List<String> all = new ArrayList<>(common);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }
}
