package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.net.TlsMode;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS with pre-shared keys judged by nbdkit's (GnuTLS's server, which the JDK's engine cannot be:
 * it has no PSK): both serve the same key file, and qemu-io (GnuTLS's client) with each priority
 * string below must be let in by both or refused by both. Left out, as differences by design:
 * TLS 1.1 (the JDK's policy disables it), AES-CCM (the JDK has no CCM cipher), and TLS 1.2's CBC suites with SHA-256 or SHA-384 MACs (served here, not by GnuTLS's
 * default priorities); docs/SECURITY.md.
 */
class PskNbdkitDifferentialTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** GnuTLS priority strings, from a plain client to ones that leave one thing each. */
    private static final List<String> CLIENTS = List.of(
            "NORMAL",
            "NORMAL:-AES-128-GCM",
            "NORMAL:-AES-128-GCM:-CHACHA20-POLY1305",
            "NORMAL:-AES-128-GCM:-AES-256-GCM",
            "NORMAL:-VERS-TLS1.3",
            "NORMAL:-VERS-TLS1.3:+ECDHE-PSK",
            "NORMAL:-VERS-TLS1.3:+DHE-PSK:-ECDHE-PSK",
            "NORMAL:-VERS-TLS1.3:+ECDHE-PSK:-AES-128-GCM:-AES-256-GCM",
            "NORMAL:-GROUP-ALL:+GROUP-FFDHE2048",
            "NORMAL:-GROUP-ALL:+GROUP-SECP384R1",
            "NORMAL:-GROUP-ALL:+GROUP-X448",
            "NORMAL:-GROUP-ALL:+GROUP-SECP521R1",
            "NORMAL:-VERS-TLS1.3:+ECDHE-PSK:-GROUP-ALL:+GROUP-SECP521R1",
            "NORMAL:-VERS-TLS1.3:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1",
            "NORMAL:-VERS-TLS1.3:%NO_ETM",
            "NORMAL:%NO_EXTENSIONS",
            "NORMAL:-VERS-ALL");

    @TempDir
    Path dir;

    @Test
    void everyClientIsServedOrRefusedAsNbdkitServesOrRefusesIt() throws Exception {
        Tools.require("nbdkit", "qemu-io");
        byte[] key = new byte[32];
        new SplittableRandom(0x9e5c_0010L).nextBytes(key);
        Files.writeString(dir.resolve("keys.psk"), "grace:" + HexFormat.of().formatHex(key) + "\n");
        Path socket = dir.resolve("nbdkit.sock");
        Process nbdkit = new ProcessBuilder(
                        "nbdkit",
                        "--foreground",
                        "--tls=require",
                        "--tls-psk=" + dir.resolve("keys.psk"),
                        "-U",
                        socket.toString(),
                        "memory",
                        "8M")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("nbdkit.log").toFile())
                .start();
        Map<String, String> theirs = new LinkedHashMap<>();
        Map<String, String> ours = new LinkedHashMap<>();
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("d=memory:8M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(dir.resolve("keys.psk"))))
                .start()) {
            await("nbdkit's socket").atMost(TIMEOUT).until(() -> Files.exists(socket));
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            for (String priority : CLIENTS) {
                theirs.put(priority, outcome(priority, "path=" + socket));
                ours.put(priority, outcome(priority, "host=127.0.0.1,port=" + port + ",export=d"));
            }
        } finally {
            nbdkit.destroy();
        }
        assertEquals(theirs, ours, "nbdkit, then this server");
        assertTrue(ours.containsValue("refused") && ours.containsValue("served"), () -> "a mix: " + ours);
    }

    /** "served" if qemu-io reads through TLS with {@code priority} from the server {@code where} names, else "refused". */
    private String outcome(String priority, String where) {
        CommandResult io = Command.run(
                TIMEOUT,
                "qemu-io",
                "--object",
                "tls-creds-psk,id=tls0,dir=" + dir + ",username=grace,endpoint=client,priority=" + priority,
                "--image-opts",
                "-c",
                "read 0 4096",
                "driver=nbd," + where + ",tls-creds=tls0");
        return io.exit() == 0 ? "served" : "refused";
    }
}
