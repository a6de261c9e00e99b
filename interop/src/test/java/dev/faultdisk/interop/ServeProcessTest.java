package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code faultdisk serve} as a real process: it prints how to attach, a client writes through it,
 * and SIGTERM closes the open connection and flushes the file export before exiting.
 */
class ServeProcessTest {

    @Test
    void servesFileExportAndFlushesOnSigterm(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path image = dir.resolve("disk.img");
        try (ServeProcess server = ServeProcess.start(
                "--export", "data=" + image + ",size=8M", "--nbd", "127.0.0.1:0", "--qmp", "127.0.0.1:0")) {
            String uri = server.uri("data");
            assertTrue(
                    server.banner().stream().anyMatch(l -> l.contains("nbdinfo " + uri)),
                    server.banner().toString());
            assertTrue(Files.size(image) == 8 << 20, "image created with the asked size");

            QemuIo.run(uri, "write -P 0x6b 1M 64k").assertOk("qemu-io write");

            // A client still attached when the server is told to stop.
            Process idle = new ProcessBuilder("qemu-io", "-f", "raw", uri)
                    .redirectErrorStream(true)
                    .start();
            try {
                try (FaultdiskClient fd = FaultdiskClient.connect(server.qmp())) {
                    await("qemu-io attached")
                            .atMost(Duration.ofSeconds(30))
                            .until(() -> fd.queryBlock().getFirst().connections() == 1);
                }
                String rest = server.terminate(Duration.ofSeconds(20));
                assertTrue(rest.contains("stopped; exports flushed."), rest);
                assertEquals(143, server.exitValue(), "exit status of a SIGTERM'd JVM");
            } finally {
                idle.destroyForcibly();
            }

            byte[] bytes = Files.readAllBytes(image);
            for (int i = 1 << 20; i < (1 << 20) + 65536; i++) {
                assertEquals(0x6b, bytes[i] & 0xff, "byte " + i + " reached the file");
            }
            assertEquals(0, bytes[(1 << 20) - 1], "byte before the write untouched");
        }
    }

    /**
     * {@code --warm-up}: the banner says what ran before the server listened (an image and a
     * memory export: two kinds, four connections each), and the real exports count only what real
     * clients send them afterwards: qemu-io's one read, no warm-up request.
     */
    @Test
    void aWarmUpRunsBeforeTheBannerAndLeavesTheExportsCountsAlone(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path image = dir.resolve("disk.img");
        try (ServeProcess server = ServeProcess.start(
                "--export",
                "data=" + image + ",size=16M",
                "--export",
                "mem=memory:16M",
                "--nbd",
                "127.0.0.1:0",
                "--qmp",
                "127.0.0.1:0",
                "--warm-up",
                "300ms")) {
            assertTrue(
                    server.banner().stream()
                            .anyMatch(l -> l.matches("faultdisk: warmed up with [0-9,]+ requests over 8 connections"
                                    + " \\(2 kinds of export\\) in .*")),
                    server.banner().toString());
            try (FaultdiskClient fd = FaultdiskClient.connect(server.qmp())) {
                assertEquals(0, fd.queryBlockstats("data").reads(), "reads before any client");
                QemuIo.run(server.uri("data"), "read 0 64k").assertOk("qemu-io read");
                assertEquals(1, fd.queryBlockstats("data").reads(), "qemu-io's one read");
                assertEquals(0, fd.queryBlockstats("data").writes());
                assertEquals(
                        0,
                        fd.queryBlockstats("mem").reads()
                                + fd.queryBlockstats("mem").writes());
            }
        }
    }

    /**
     * Over TLS the warm-up speaks TLS too, handshakes first, with either kind of credentials, and
     * the banner says so; the real export has counted nothing, and the banner's nbdinfo attaches.
     */
    @Test
    void aWarmUpOverTlsHandshakesBeforeTheBanner(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdinfo");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        for (List<String> given : credentials(pki, "erin", 0x5e11_0002L)) {
            List<String> args = new java.util.ArrayList<>(List.of(
                    "--export",
                    "d=memory:16M",
                    "--nbd",
                    "127.0.0.1:0",
                    "--qmp",
                    "127.0.0.1:0",
                    "--tls",
                    "require",
                    "--warm-up",
                    "600ms"));
            args.addAll(given);
            try (ServeProcess server = ServeProcess.start(args.toArray(String[]::new))) {
                List<String> banner = server.banner();
                assertTrue(
                        banner.stream()
                                .anyMatch(l -> l.matches("faultdisk: warmed up with [0-9,]+ requests over 4 connections"
                                        + " and [0-9]+ TLS handshakes? in .*")),
                        banner.toString());
                try (FaultdiskClient fd = FaultdiskClient.connect(server.qmp())) {
                    assertEquals(0, fd.queryBlockstats("d").reads(), "reads before any client");
                    assertEquals(0, fd.queryBlockstats("d").writes(), "writes before any client");
                }
                String nbdinfo = command(banner, "  nbdinfo ").replace("   (TLS)", "");
                CommandResult info = Command.run(Duration.ofSeconds(60), "sh", "-c", nbdinfo);
                assertEquals(0, info.exit(), nbdinfo + ": " + info);
                assertTrue(info.stdout().contains("export-size: 16777216"), info.stdout());
            }
        }
    }

    /**
     * With TLS required the banner shows commands that attach over TLS, with pre-shared keys or
     * certificates, and none that would be refused in plaintext; its nbdinfo and qemu-io commands
     * run as printed.
     */
    @Test
    void theBannersTlsCommandsWorkAsPrinted(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdinfo", "qemu-io");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        for (List<String> given : credentials(pki, "carol", 0x5e11_0001L)) {
            List<String> args = new java.util.ArrayList<>(
                    List.of("--export", "d=memory:1M", "--nbd", "127.0.0.1:0", "--qmp", "none", "--tls", "require"));
            args.addAll(given);
            try (ServeProcess server = ServeProcess.start(args.toArray(String[]::new))) {
                List<String> banner = server.banner();
                assertTrue(banner.stream().noneMatch(l -> l.contains("nbd://")), "no plaintext URI: " + banner);
                assertTrue(banner.stream().anyMatch(l -> l.startsWith("  nbdcopy 'nbds://")), banner.toString());
                String nbdinfo = command(banner, "  nbdinfo ").replace("   (TLS)", "");
                assertTrue(
                        nbdinfo.contains(given.getFirst().equals("--tls-psk") ? "carol@" : "tls-certificates="),
                        nbdinfo);
                CommandResult info = Command.run(Duration.ofSeconds(60), "sh", "-c", nbdinfo);
                assertEquals(0, info.exit(), nbdinfo + ": " + info);
                assertTrue(info.stdout().contains("export-size: 1048576"), info.stdout());
                String qemuIo = command(banner, "  qemu-io ");
                CommandResult read = Command.run(Duration.ofSeconds(60), "sh", "-c", qemuIo);
                assertEquals(0, read.exit(), qemuIo + ": " + read);
                assertTrue(read.stdout().contains("read 512/512 bytes at offset 0"), read.stdout());
            }
        }
    }

    /**
     * Over certificates the server prefers AES-128-GCM, though GnuTLS (libnbd) offers AES-256-GCM
     * first; {@code --tls-ciphers} names the suites and their order (AES-CCM's too, which only
     * Bouncy Castle's handshake has); a suite neither handshake can use stops the server before it
     * listens, naming the suite.
     */
    @Test
    void tlsCiphersNamesTheSuitesLibnbdAgreesOn(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdinfo");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        List<String> plain = List.of("serve", "--export", "d=memory:1M", "--nbd", "127.0.0.1:0", "--qmp", "none");
        List<String> base =
                with(plain, "--tls", "require", "--tls-certificates", pki.dir().toString());
        assertEquals("AES-128-GCM", cipherLibnbdAgreesOn(base));
        assertEquals(
                "AES-256-GCM",
                cipherLibnbdAgreesOn(with(base, "--tls-ciphers", "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256")));
        // AES-CCM, which the JDK lacks, by its IANA name: Bouncy Castle's handshake serves it.
        assertEquals("AES-128-CCM", cipherLibnbdAgreesOn(with(base, "--tls-ciphers", "TLS_AES_128_CCM_SHA256")));

        CommandResult refused = FaultdiskCli.run(with(base, "--tls-ciphers", "TLS_AES_128_GCM_SHA256,AES-256-GCM")
                .toArray(String[]::new));
        assertEquals(2, refused.exit(), refused.stderr());
        assertTrue(
                refused.stderr()
                        .contains("--tls-ciphers: unknown or disabled cipher suite 'AES-256-GCM'; the usable ones: "),
                refused.stderr());
        CommandResult noCertificates = FaultdiskCli.run(
                with(plain, "--tls-ciphers", "TLS_AES_128_GCM_SHA256").toArray(String[]::new));
        assertEquals(2, noCertificates.exit(), noCertificates.stderr());
        assertTrue(
                noCertificates.stderr().contains("--tls-ciphers needs --tls-certificates DIR"),
                noCertificates.stderr());
    }

    private static List<String> with(List<String> args, String... more) {
        List<String> all = new java.util.ArrayList<>(args);
        all.addAll(List.of(more));
        return all;
    }

    /** The cipher libnbd's debug output names after nbdinfo (the banner's command) connects. */
    private static String cipherLibnbdAgreesOn(List<String> args) throws Exception {
        try (ServeProcess server =
                ServeProcess.start(args.subList(1, args.size()).toArray(String[]::new))) {
            String nbdinfo = command(server.banner(), "  nbdinfo ").replace("   (TLS)", "");
            CommandResult info = Command.run(Duration.ofSeconds(60), "sh", "-c", "LIBNBD_DEBUG=1 " + nbdinfo);
            assertEquals(0, info.exit(), nbdinfo + ": " + info);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("connection is using TLS: cipher (\\S+)")
                    .matcher(info.stderr());
            assertTrue(m.find(), info.stderr());
            return m.group(1);
        }
    }

    /** The banner's line starting with {@code start}, as a command (its leading spaces off). */
    /** Serve's TLS arguments for each kind of credentials: a PSK file with {@code user}'s key, and the PKI. */
    private static List<List<String>> credentials(TestPki pki, String user, long seed) {
        Path psk = pki.pskDir(user, seed).resolve("keys.psk");
        return List.of(
                List.of("--tls-psk", psk.toString()),
                List.of("--tls-certificates", pki.dir().toString()));
    }

    private static String command(List<String> banner, String start) {
        return banner.stream()
                .filter(l -> l.startsWith(start))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no line " + start.strip() + " in " + banner))
                .strip();
    }

    @Test
    void badExportSpecIsAClearErrorAndExitCode2() {
        CommandResult r = FaultdiskCli.run("serve", "--export", "nonsense", "--nbd", "127.0.0.1:0", "--qmp", "none");
        assertEquals(2, r.exit(), r.stderr());
        assertTrue(r.stderr().contains("export must be NAME=SPEC"), r.stderr());
    }
}
