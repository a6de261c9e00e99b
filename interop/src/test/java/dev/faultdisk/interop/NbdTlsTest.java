package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.NbdCopy;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NBD over TLS (STARTTLS) with real clients: nbdinfo and nbdcopy (libnbd, GnuTLS) and qemu-io. */
class NbdTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static TestPki pki;

    @BeforeAll
    static void pki() {
        Tools.require("openssl", "nbdinfo", "nbdcopy", "qemu-io");
        pki = TestPki.create(dir.resolve("pki"));
    }

    private static FaultdiskServer start(TlsMode mode, boolean verifyPeer) throws Exception {
        return FaultdiskServer.builder()
                .export("d=memory:8M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withTls(mode, TlsCredentials.server(pki.dir(), verifyPeer)))
                .start();
    }

    /** A server requiring TLS with the keys in {@code psk}'s keys.psk. */
    private static FaultdiskServer startPsk(Path psk) throws Exception {
        return FaultdiskServer.builder()
                .export("d=memory:8M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(psk.resolve("keys.psk"))))
                .start();
    }

    private static int port(FaultdiskServer server) {
        return ((InetSocketAddress) server.nbdAddress()).getPort();
    }

    @Test
    void nbdinfoNbdcopyAndQemuIoOverRequiredTls() throws Exception {
        try (FaultdiskServer server = start(TlsMode.REQUIRE, false)) {
            String uri = "nbds://localhost:" + port(server) + "/d?tls-certificates=" + pki.caOnly();
            CommandResult is = Command.run(TIMEOUT, "nbdinfo", "--is", "tls", uri);
            assertEquals(0, is.exit(), () -> "nbdinfo --is tls: " + is);
            String size = Command.run(TIMEOUT, "nbdinfo", "--size", uri)
                    .assertOk("nbdinfo")
                    .stdout()
                    .strip();
            assertEquals(String.valueOf(8 << 20), size);

            NbdCopy.assertRoundTrip(dir, uri, 0x7150_0001L, 8 << 20, "seed 0x71500001 over TLS");

            assertQemuIoWritesAndReads(
                    server,
                    "tls-creds-x509,id=tls0,dir=" + pki.caOnly() + ",endpoint=client",
                    "0x5a",
                    4096,
                    8192,
                    "qemu-io over TLS");
        }
    }

    /**
     * fio's nbd engine keeps 16 small requests (a TLS record each) or 8 large ones in flight, so
     * the server reads bursts of records and answers them together; or one at a time (each sent
     * once the last reply is in, as a database's commits), where a busy connection's reader
     * looks for the next record before it waits idle and reads it on when it comes within the
     * look ({@code ReaderSpin#awaitThrough}). Every block is verified. fio's URIs may not name
     * local files, so it checks no certificate (the encryption is the same).
     */
    @Test
    void fioAtQueueDepthOverTlsVerifiesEveryBlock() throws Exception {
        Tools.require("fio");
        try (FaultdiskServer server = start(TlsMode.REQUIRE, false)) {
            String uri = "nbds://127.0.0.1:" + port(server) + "/d?tls-verify-peer=false";
            fioVerified(uri, "fio random 4k over TLS", 2048, "--rw=randwrite", "--bs=4k", "--iodepth=16");
            fioVerified(uri, "fio sequential 1M over TLS", 8, "--rw=write", "--bs=1M", "--iodepth=8");
            fioVerified(
                    uri, "fio random 4k at queue depth 1 over TLS", 2048, "--rw=randwrite", "--bs=4k", "--iodepth=1");
        }
    }

    /** Runs one fio job of 8 MiB at {@code uri} and checks that every one of its {@code blocks} verified. */
    private static void fioVerified(String uri, String what, long blocks, String... job) {
        FioTest.assertVerified(
                FioTest.fio(uri, FioTest.concat(List.of(job), "--size=8M")).assertOk(what), blocks);
    }

    /**
     * TLS over a Unix socket, as nbdkit and qemu-nbd serve it: libnbd (nbdinfo, nbdcopy) and
     * qemu-io, which names the host the certificate must show with tls-hostname.
     */
    @Test
    void overAUnixSocket() throws Exception {
        Path socket = dir.resolve("tls.sock");
        assertServesOverAUnixSocket(
                socket,
                NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, TlsCredentials.server(pki.dir(), false)),
                "nbds+unix:///d?socket=" + socket + "&tls-certificates=" + pki.caOnly(),
                "tls-creds-x509,id=tls0,dir=" + pki.caOnly() + ",endpoint=client");
    }

    /** The same with a pre-shared key. */
    @Test
    void preSharedKeysOverAUnixSocket() throws Exception {
        Path socket = dir.resolve("psk.sock");
        Path psk = pki.pskDir("dave", 0x9e5c_0003L);
        assertServesOverAUnixSocket(
                socket,
                NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(psk.resolve("keys.psk"))),
                "nbds+unix://dave@/d?socket=" + socket + "&tls-psk-file=" + psk.resolve("keys.psk"),
                "tls-creds-psk,id=tls0,dir=" + psk + ",username=dave,endpoint=client");
    }

    /**
     * A server on {@code socket} with {@code options}: nbdinfo sees TLS at {@code uri}, nbdcopy
     * copies there and back, qemu-io with {@code credentials} (its TLS object, id tls0) writes and
     * reads.
     */
    private static void assertServesOverAUnixSocket(
            Path socket, NbdServer.Options options, String uri, String credentials) throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("d=memory:8M")
                .nbd(java.net.UnixDomainSocketAddress.of(socket))
                .nbdOptions(options)
                .start()) {
            CommandResult is = Command.run(TIMEOUT, "nbdinfo", "--is", "tls", uri);
            assertEquals(0, is.exit(), () -> "nbdinfo --is tls over a Unix socket: " + is);
            NbdCopy.assertRoundTrip(dir, uri, 0x7150_0002L, 8 << 20, "seed 0x71500002 over TLS on a Unix socket");
            CommandResult io = Command.run(
                    TIMEOUT,
                    "qemu-io",
                    "--object",
                    credentials,
                    "--image-opts",
                    "-c",
                    "write -P 0x3d 8192 1M",
                    "-c",
                    "read -P 0x3d 8192 1M",
                    "driver=nbd,server.type=unix,server.path=" + socket
                            + ",export=d,tls-creds=tls0,tls-hostname=localhost");
            io.assertOk("qemu-io over TLS on a Unix socket");
            assertEquals(
                    List.of("wrote 1048576/1048576 bytes at offset 8192", "read 1048576/1048576 bytes at offset 8192"),
                    QemuIo.reports(io.stdout()));
            // Over TLS the reader is busy decrypting: a large write stays on it (off it, slower).
            assertEquals(0, server.nbd().writesOffReader(), "large writes over TLS that ran off the reader");
        }
    }

    /**
     * A busy TLS connection is read by a platform thread and an idle one goes back to a virtual
     * thread, as a plaintext connection does, and it serves on across both moves: qemu-io over
     * TLS, given its commands with a pause between (the platform reader waits for the next
     * request with a read timeout, which the TLS socket survives).
     */
    @Test
    void aBusyConnectionMovesToAPlatformThreadAndAnIdleOneBack() throws Exception {
        try (FaultdiskServer server = start(TlsMode.REQUIRE, false)) {
            assertMovesAndServesOn(
                    server,
                    "tls-creds-x509,id=tls0,dir=" + pki.caOnly() + ",endpoint=client",
                    // QEMU offers AES-256-GCM first, the server's order wins; and X25519's share, sent after
                    // secp256r1's
                    "TLSv1\\.3 TLS_AES_128_GCM_SHA256 x25519");
        }
    }

    /** A client that will not have AES-128-GCM (a GnuTLS priority string) still attaches, on AES-256-GCM. */
    @Test
    void aClientRefusingAes128GcmAgreesOnAes256() throws Exception {
        try (FaultdiskServer server = start(TlsMode.REQUIRE, false)) {
            assertMovesAndServesOn(
                    server,
                    "tls-creds-x509,id=tls0,dir=" + pki.caOnly() + ",endpoint=client,priority=NORMAL:-AES-128-GCM",
                    "TLSv1\\.3 TLS_AES_256_GCM_SHA384 x25519");
        }
    }

    /** The same with a pre-shared key (Bouncy Castle's TLS, which keeps a record read in part too). */
    @Test
    void aBusyPskConnectionMovesToAPlatformThreadAndAnIdleOneBack() throws Exception {
        Path psk = pki.pskDir("bob", 0x9e5c_0002L);
        try (FaultdiskServer server = startPsk(psk)) {
            // QEMU over GnuTLS offers TLS 1.3 with the key and ECDHE shares (secp256r1's, then
            // X25519's, which the server takes), in AES-GCM first.
            assertMovesAndServesOn(
                    server,
                    "tls-creds-psk,id=tls0,dir=" + psk + ",username=bob,endpoint=client",
                    "TLSv1\\.3 TLS_AES_128_GCM_SHA256 x25519");
        }
    }

    /**
     * A PSK client that will have no AES at all (a GnuTLS priority string, as GnuTLS prefers on a
     * machine without AES instructions) agrees on ChaCha20-Poly1305, over TLS 1.3 and, told so,
     * TLS 1.2 (ECDHE-PSK); its records go through Bouncy Castle's record layer, busy and idle.
     */
    @Test
    void aPskClientWithoutAesAgreesOnChaCha20() throws Exception {
        Path psk = pki.pskDir("carol", 0x9e5c_0005L);
        String noAes = "-AES-128-GCM:-AES-256-GCM:-AES-128-CBC:-AES-256-CBC:-AES-128-CCM:-AES-256-CCM";
        try (FaultdiskServer server = startPsk(psk)) {
            assertMovesAndServesOn(
                    server,
                    "tls-creds-psk,id=tls0,dir=" + psk + ",username=carol,endpoint=client,priority=NORMAL:+ECDHE-PSK:"
                            + noAes,
                    "TLSv1\\.3 TLS_CHACHA20_POLY1305_SHA256 x25519");
            assertMovesAndServesOn(
                    server,
                    "tls-creds-psk,id=tls0,dir=" + psk
                            + ",username=carol,endpoint=client,priority=NORMAL:+ECDHE-PSK:-VERS-TLS1.3:" + noAes,
                    "TLSv1\\.2 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
        }
    }

    /**
     * PSK clients nbdkit's GnuTLS serves and this server refused before: one that will not have
     * AES-128-GCM but offers AES-256-GCM and ChaCha20-Poly1305 (GnuTLS's order) agrees on
     * ChaCha20-Poly1305 (a key is bound to SHA-256, which AES-256-GCM's TLS 1.3 suite is not:
     * chosen first, it failed the handshake); one without ChaCha20-Poly1305 too gets TLS 1.2's
     * AES-256-GCM (rather than TLS 1.3's AES-CCM, plain Java here); one with AES-CCM alone gets it;
     * one with P-521 alone gets its share.
     */
    @Test
    void pskClientsWithoutAes128GcmOrWithP521AloneAreServed() throws Exception {
        Path psk = pki.pskDir("frank", 0x9e5c_0006L);
        String creds = "tls-creds-psk,id=tls0,dir=" + psk + ",username=frank,endpoint=client,priority=NORMAL";
        Map<String, String> sessions = new LinkedHashMap<>();
        sessions.put(":-AES-128-GCM", "TLSv1\\.3 TLS_CHACHA20_POLY1305_SHA256 x25519");
        sessions.put(":-AES-128-GCM:-CHACHA20-POLY1305", "TLSv1\\.2 TLS_DHE_PSK_WITH_AES_256_GCM_SHA384");
        sessions.put(":-CIPHER-ALL:+AES-128-CCM", "TLSv1\\.3 TLS_AES_128_CCM_SHA256 x25519");
        sessions.put(":-GROUP-ALL:+GROUP-SECP521R1", "TLSv1\\.3 TLS_AES_128_GCM_SHA256 secp521r1");
        for (Map.Entry<String, String> client : sessions.entrySet()) {
            try (FaultdiskServer server = startPsk(psk)) { // a server each: the check reads its first connection
                assertMovesAndServesOn(server, creds + client.getKey(), client.getValue());
            }
        }
    }

    /**
     * qemu-io with {@code credentials} (its TLS object, id tls0) writes, waits until its
     * connection is read by a platform thread and then, idle, by a virtual one again, and reads
     * (which moves it to a platform thread again);
     * the connection's TLS session, as the server reports it, matches {@code session}.
     */
    private static void assertMovesAndServesOn(FaultdiskServer server, String credentials, String session)
            throws Exception {
        Process io = new ProcessBuilder(
                        "qemu-io",
                        "--object",
                        credentials,
                        "--image-opts",
                        "driver=nbd,host=localhost,port=" + port(server) + ",export=d,tls-creds=tls0")
                .redirectErrorStream(true)
                .start();
        try {
            java.io.PrintWriter commands = new java.io.PrintWriter(
                    new java.io.OutputStreamWriter(io.getOutputStream(), java.nio.charset.StandardCharsets.UTF_8),
                    true);
            commands.println("write -P 0x6b 4096 1M");
            // Its handshake ran on a platform thread already (a TCP connection to a server that
            // offers TLS), and the busy connection stays there.
            await("a platform thread reads the busy connection, its session agreed")
                    .atMost(TIMEOUT)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> !platformReaders(server).isEmpty()
                            && server.nbd().connections().getFirst().tls() != null);
            String agreed = server.nbd().connections().getFirst().tls();
            assertTrue(agreed != null && agreed.matches(session), "the session agreed: " + agreed);
            await("the idle connection is back on a virtual thread")
                    .atMost(Duration.ofSeconds(20))
                    .until(() ->
                            platformReaders(server).isEmpty() && server.nbd().connectionCount() == 1);
            commands.println("read -P 0x6b 4096 1M");
            commands.println("quit");
            commands.close();
            assertTrue(io.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS), "qemu-io quits");
            String output = new String(io.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, io.exitValue(), output);
            assertEquals(
                    List.of("wrote 1048576/1048576 bytes at offset 4096", "read 1048576/1048576 bytes at offset 4096"),
                    QemuIo.reports(output.replace("qemu-io> ", "")), // its prompts, given commands on stdin
                    output);
        } finally {
            io.destroyForcibly();
        }
    }

    /** Platform threads reading {@code server}'s connections (a reader is named for its connection). */
    private static List<String> platformReaders(FaultdiskServer server) {
        java.util.Set<String> names = server.nbd().connections().stream()
                .map(c -> "nbd-conn-" + c.id())
                .collect(java.util.stream.Collectors.toSet());
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(names::contains)
                .toList();
    }

    @Test
    void aPlaintextClientAgainstRequireGetsTheSpecsErrorNotAHang() throws Exception {
        try (FaultdiskServer server = start(TlsMode.REQUIRE, false)) {
            long t0 = System.nanoTime();
            CommandResult plain = Command.run(TIMEOUT, "nbdinfo", "nbd://127.0.0.1:" + port(server) + "/d");
            assertNotEquals(0, plain.exit());
            // libnbd reports NBD_REP_ERR_TLS_REQD to GO as ENOTSUP.
            assertTrue(plain.stderr().contains("Operation not supported"), plain.stderr());
            CommandResult qemu = QemuIo.run("nbd://127.0.0.1:" + port(server) + "/d", "read 0 512");
            assertNotEquals(0, qemu.exit());
            assertTrue(qemu.stderr().contains("TLS negotiation required"), qemu.stderr());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(9).toNanos(), "refused at once, not by the timeout");
        }
    }

    @Test
    void onLetsBothKindsInAndVerifyPeerNeedsAClientCertificate() throws Exception {
        try (FaultdiskServer server = start(TlsMode.ON, true)) {
            String plain = "nbd://127.0.0.1:" + port(server) + "/d";
            assertEquals(
                    2, Command.run(TIMEOUT, "nbdinfo", "--is", "tls", plain).exit(), "plaintext allowed with on");
            String withCert = "nbds://localhost:" + port(server) + "/d?tls-certificates=" + pki.clientDir();
            assertEquals(
                    0, Command.run(TIMEOUT, "nbdinfo", "--is", "tls", withCert).exit(), "client certificate");
            String noCert = "nbds://localhost:" + port(server) + "/d?tls-certificates=" + pki.caOnly();
            CommandResult refused = Command.run(TIMEOUT, "nbdinfo", "--size", noCert);
            assertNotEquals(0, refused.exit(), refused.stdout());
        }
    }

    /**
     * nbdinfo and qemu-io attach with a pre-shared key; nbdinfo with a wrong key, or a user the
     * file lacks, and qemu-io told to use no ECDHE group are refused, and the server's log says
     * which (over TLS 1.3, which GnuTLS offers).
     */
    @Test
    void preSharedKeysWithNbdinfoAndQemuIo() throws Exception {
        Path psk = pki.pskDir("alice", 0x9e5c_0001L);
        java.util.logging.Logger connections = java.util.logging.Logger.getLogger("dev.faultdisk.nbd.Connection");
        List<String> closed = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                closed.add(new java.util.logging.SimpleFormatter().formatMessage(record));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        connections.addHandler(handler);
        try (FaultdiskServer server = startPsk(psk)) {
            String uri = "nbds://alice@localhost:" + port(server) + "/d?tls-psk-file=" + psk.resolve("keys.psk");
            CommandResult is = Command.run(TIMEOUT, "nbdinfo", "--is", "tls", uri);
            assertEquals(0, is.exit(), () -> "nbdinfo over PSK: " + is);
            assertQemuIoWritesAndReads(
                    server,
                    "tls-creds-psk,id=tls0,dir=" + psk + ",username=alice,endpoint=client",
                    "0x33",
                    0,
                    4096,
                    "qemu-io over PSK");
            Path wrong = dir.resolve("wrong.psk");
            java.nio.file.Files.writeString(wrong, "alice:" + "00".repeat(32) + "\n");
            CommandResult refused = Command.run(
                    TIMEOUT,
                    "nbdinfo",
                    "--size",
                    "nbds://alice@localhost:" + port(server) + "/d?tls-psk-file=" + wrong);
            assertNotEquals(0, refused.exit(), "a wrong key is refused");
            java.nio.file.Files.writeString(wrong, "bob:" + "00".repeat(32) + "\n");
            CommandResult stranger = Command.run(
                    TIMEOUT, "nbdinfo", "--size", "nbds://bob@localhost:" + port(server) + "/d?tls-psk-file=" + wrong);
            assertNotEquals(0, stranger.exit(), "a user the file lacks is refused");
            // GnuTLS told to use no group at all: TLS 1.3 then has no ECDHE share to go with the key.
            CommandResult noGroups = Command.run(
                    TIMEOUT,
                    "qemu-io",
                    "--object",
                    "tls-creds-psk,id=tls1,dir=" + psk
                            + ",username=alice,endpoint=client,priority=NORMAL:+PSK:-ECDHE-PSK:-DHE-PSK:-GROUP-ALL",
                    "--image-opts",
                    "-c",
                    "read 0 512",
                    "driver=nbd,host=127.0.0.1,port=" + port(server) + ",export=d,tls-creds=tls1");
            assertNotEquals(0, noGroups.exit(), "a client without ECDHE is refused: " + noGroups);
            await("the refusals' reasons in the log")
                    .atMost(Duration.ofSeconds(10))
                    .until(
                            () -> closed.stream()
                                            .anyMatch(
                                                    l -> l.endsWith(
                                                            "PSK handshake failed: decrypt_error(51); the client's key for 'alice' is not the key file's"))
                                    && closed.stream()
                                            .anyMatch(
                                                    l -> l.endsWith(
                                                            "PSK handshake failed: unknown_psk_identity(115); no key for the client's identity 'bob'"))
                                    && closed.stream()
                                            .anyMatch(
                                                    l -> l.endsWith(
                                                            "PSK handshake failed: handshake_failure(40); the client offered TLS 1.3 with no group this server has for ECDHE or DHE")));
        } finally {
            connections.removeHandler(handler);
        }
    }

    @Test
    void offRefusesStartTlsWithPolicy() throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("d=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .start()) {
            String uri = "nbds://localhost:" + port(server) + "/d?tls-certificates=" + pki.caOnly();
            CommandResult r = Command.run(TIMEOUT, "nbdinfo", "--size", uri);
            assertNotEquals(0, r.exit());
            // The server closes the refused connection as nbdinfo leaves: wait for it to notice.
            await("the refused connection is gone")
                    .atMost(TIMEOUT)
                    .until(() -> server.nbd().connectionCount() == 0);
        }
    }

    /**
     * qemu-io, with the TLS credentials object {@code creds} (id {@code tls0}), writes
     * {@code pattern} over {@code length} bytes at {@code offset} of export "d", reads them back
     * checked, and reports both.
     */
    private static void assertQemuIoWritesAndReads(
            FaultdiskServer server, String creds, String pattern, long offset, int length, String what) {
        String range = pattern + " " + offset + " " + length;
        CommandResult io = Command.run(
                TIMEOUT,
                "qemu-io",
                "--object",
                creds,
                "--image-opts",
                "-c",
                "write -P " + range,
                "-c",
                "read -P " + range,
                "driver=nbd,host=localhost,port=" + port(server) + ",export=d,tls-creds=tls0");
        io.assertOk(what);
        String done = length + "/" + length + " bytes at offset " + offset;
        assertEquals(List.of("wrote " + done, "read " + done), QemuIo.reports(io.stdout()));
    }
}
