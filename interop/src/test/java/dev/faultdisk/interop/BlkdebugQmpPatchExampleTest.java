package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QMP example of the blkdebug QMP patch of 2014, sent verbatim as raw bytes, breaks the disk
 * for a real client exactly as QEMU's blkdebug breaks it with the same rule.
 */
class BlkdebugQmpPatchExampleTest {
    /** The patch's example, byte for byte, line breaks inside the second object included. */
    private static final String PATCH_EXAMPLE = """
            { "execute": "qmp_capabilities" }
            {"execute": "blkdebug-set-rules", "arguments": {"device": "ide0-hd0",
            "rules":[{"event": "write_aio", "type": "inject-error", "immediately":
            1, "once": 0, "state": 1}]}}
            """;

    private static final String[] COMMANDS = {
        "read -P 0 0 4k", "write -P 0xab 0 4k", "read 0 4k", "write -P 0xcd 64k 4k", "flush"
    };

    @Test
    void thePatchExampleWorksVerbatimAndMatchesQemuBlkdebug(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io", "qemu-img");
        Path served = dir.resolve("disk.img");
        try (FaultdiskServer server = FaultdiskServer.builder()
                        .export("ide0-hd0=" + served + ",size=16M")
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .start();
                Socket qmp = new Socket()) {
            qmp.connect(server.qmpAddresses().getFirst(), 5000);
            qmp.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(qmp.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = qmp.getOutputStream();
            assertTrue(in.readLine().startsWith("{\"QMP\": {\"version\": {\"qemu\": "), "greeting");
            out.write(PATCH_EXAMPLE.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("{\"return\": {}}", in.readLine());
            assertEquals("{\"return\": {}}", in.readLine());

            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            CommandResult viaFaultdisk = QemuIo.run("nbd://127.0.0.1:" + port + "/ide0-hd0", COMMANDS);
            assertTrue(viaFaultdisk.stdout().contains("write failed: Input/output error"), viaFaultdisk.stdout());

            // The disk stays broken for every later client, as the armed rule stays armed.
            CommandResult later = QemuIo.run("nbd://127.0.0.1:" + port + "/ide0-hd0", "read 0 512");
            assertTrue(later.stdout().contains("read failed: Input/output error"), later.stdout());

            // BLOCK_IO_ERROR reached the QMP client, with QEMU's fields.
            String event = in.readLine();
            assertTrue(event.startsWith("{\"timestamp\": {\"seconds\": "), event);
            assertTrue(event.contains("\"event\": \"BLOCK_IO_ERROR\", \"data\": {\"device\": \"ide0-hd0\""), event);
            assertTrue(
                    event.contains("\"operation\": \"write\"")
                            && event.contains("\"action\": \"report\"")
                            && event.contains("\"reason\": \"Input/output error\""),
                    event);

            // QEMU's own blkdebug with the same rule, on an image in the same state, is the judge.
            Path reference = dir.resolve("reference.img");
            Command.run(Duration.ofSeconds(30), "qemu-img", "create", "-f", "raw", reference.toString(), "16M")
                    .assertOk("qemu-img create");
            Path conf = dir.resolve("blkdebug.conf");
            Files.writeString(conf, """
                    [inject-error]
                    event = "write_aio"
                    state = "1"
                    once = "off"
                    immediately = "on"
                    """);
            CommandResult viaQemu =
                    QemuIo.run(List.of("-t", "writeback"), "blkdebug:" + conf + ":" + reference, COMMANDS);
            assertEquals(QemuIo.reports(viaQemu.stdout()), QemuIo.reports(viaFaultdisk.stdout()));
            assertEquals(viaQemu.stderr(), viaFaultdisk.stderr());
            assertEquals(viaQemu.exit(), viaFaultdisk.exit());
            assertTrue(
                    java.util.Arrays.equals(Files.readAllBytes(reference), Files.readAllBytes(served)),
                    "the images hold the same bytes");
        }
    }
}
