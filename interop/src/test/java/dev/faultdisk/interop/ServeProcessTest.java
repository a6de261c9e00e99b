package dev.faultdisk.interop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code faultdisk serve} as a real process: it prints how to attach, a client writes through it,
 * and SIGTERM closes the open connection and flushes the file export before exiting.
 */
class ServeProcessTest {

    @Test
    void servesFileExportAndFlushesOnSigterm(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path image = dir.resolve("disk.img");
        Process server = startServe("--export", "data=" + image + ",size=8M", "--nbd", "127.0.0.1:0", "--qmp", "127.0.0.1:0");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            List<String> banner = new ArrayList<>();
            String port = null;
            for (String line; (line = out.readLine()) != null; ) {
                banner.add(line);
                Matcher m = Pattern.compile("serving NBD on 127\\.0\\.0\\.1:(\\d+)").matcher(line);
                if (m.find()) {
                    port = m.group(1);
                }
                if (line.startsWith("Stop with")) {
                    break;
                }
            }
            assertNotNull(port, "banner names the port: " + banner);
            String uri = "nbd://127.0.0.1:" + port + "/data";
            assertTrue(banner.stream().anyMatch(l -> l.contains("nbdinfo " + uri)), banner.toString());
            assertTrue(Files.size(image) == 8 << 20, "image created with the asked size");

            Tools.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", "-c", "write -P 0x6b 1M 64k", uri)
                    .assertOk("qemu-io write");

            // A client still attached when the server is told to stop.
            Process idle = new ProcessBuilder("qemu-io", "-f", "raw", uri).redirectErrorStream(true).start();
            Thread.sleep(300);

            // SIGTERM through kill(1): Process.destroy would also close our end of its output.
            Tools.run(Duration.ofSeconds(5), "kill", "-TERM", Long.toString(server.pid())).assertOk("kill");
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "server exits after SIGTERM");
            StringBuilder rest = new StringBuilder();
            for (String line; (line = out.readLine()) != null; ) {
                rest.append(line).append('\n');
            }
            assertTrue(rest.toString().contains("stopped; exports flushed."), rest.toString());
            assertEquals(143, server.exitValue(), "exit status of a SIGTERM'd JVM");
            idle.destroyForcibly();

            byte[] bytes = Files.readAllBytes(image);
            for (int i = 1 << 20; i < (1 << 20) + 65536; i++) {
                assertEquals(0x6b, bytes[i] & 0xff, "byte " + i + " reached the file");
            }
            assertEquals(0, bytes[(1 << 20) - 1], "byte before the write untouched");
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void badExportSpecIsAClearErrorAndExitCode2() throws Exception {
        Process p = startServe("--export", "nonsense", "--nbd", "127.0.0.1:0", "--qmp", "none");
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), err);
        assertTrue(err.contains("export must be NAME=SPEC"), err);
    }

    static Process startServe(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                "dev.faultdisk.cli.Main", "serve"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).start();
    }
}
