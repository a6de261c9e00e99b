package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

    @Test
    void badExportSpecIsAClearErrorAndExitCode2() {
        CommandResult r = FaultdiskCli.run("serve", "--export", "nonsense", "--nbd", "127.0.0.1:0", "--qmp", "none");
        assertEquals(2, r.exit(), r.stderr());
        assertTrue(r.stderr().contains("export must be NAME=SPEC"), r.stderr());
    }
}
