package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultInfo;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code faultdisk serve --config} as a real process: the README's config (two exports, rules, a
 * preset, a trigger, a command) starts with all of it in place; a config with a mistake on line
 * 40 names that line and starts nothing.
 */
class ServeConfigProcessTest {
    private static final Path EXAMPLE = Path.of("../docs/config/two-disks.json");

    @Test
    void theReadmesConfigStartsWithItsExportsRulesAndTrigger(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo", "qemu-io");
        String example = Files.readString(EXAMPLE);
        assertTrue(Files.readString(Path.of("../README.md")).contains(example), "the README shows " + EXAMPLE);
        Path image = dir.resolve("data.img");
        Path journal = dir.resolve("faults.jsonl");
        Path config = dir.resolve("two-disks.json");
        Files.writeString(
                config,
                example.replace("127.0.0.1:10809", "127.0.0.1:0")
                        .replace("[\"127.0.0.1:4444\", \"unix:/tmp/faultdisk-qmp.sock\"]", "\"127.0.0.1:0\"")
                        .replace("/var/tmp/faultdisk-data.img", image.toString())
                        .replace("\"faults.jsonl\"", "\"" + journal + "\""));
        try (ServeProcess server = ServeProcess.start("--config", config.toString());
                FaultdiskClient fd = FaultdiskClient.connect(server.qmp())) {
            String list = Command.run(Duration.ofSeconds(30), "nbdinfo", "--list", server.uri("disk0"))
                    .assertOk("nbdinfo --list")
                    .stdout();
            assertTrue(list.contains("export=\"disk0\"") && list.contains("export=\"data\""), list);
            assertEquals(256L << 20, Files.size(image), "the file export was created with its size");

            List<FaultInfo> faults = fd.queryFaults();
            assertEquals(
                    List.of("disk0", "data"),
                    faults.stream().map(FaultInfo::device).toList());
            assertEquals("delay", faults.getFirst().type());
            assertEquals("flaky-disk", faults.get(1).label());
            assertEquals(1, fd.queryBlkdebugRules("disk0").rules().size());
            assertEquals("cut-after-100-writes", fd.queryTriggers().getFirst().name());
            assertEquals(
                    "first-flush",
                    fd.queryBlkdebugBreakpoints("data").breakpoints().getFirst().tag());
            assertEquals("writeback", fd.queryWriteCache("disk0").mode().label());

            QemuIo.run(server.uri("disk0"), "read 0 64k").assertOk("a read through the delay rule");
            assertEquals(1, fd.queryFaults("disk0").getFirst().fired(), "the delay delayed it");
            await("the journal file is written")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> Files.readString(journal).contains("\"rules-added\""));
        }
    }

    @Test
    void aMistakeOnLine40IsNamedAndNothingStarts(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("never.img");
        List<String> lines = new ArrayList<>(List.of(
                "{", "  \"nbd\": \"127.0.0.1:0\",", "  \"qmp\": \"none\",", "  \"seed\": 7,", "", "  \"exports\": ["));
        for (int i = 0; i < 8; i++) {
            lines.add("    {\"name\": \"d" + i + "\", \"spec\": \"memory:1M\",");
            lines.add("     \"faults\": [");
            lines.add("       {\"type\": \"delay\", \"ms\": 1},");
            lines.add("       {\"type\": \"" + (i == 6 ? "explode" : "error") + "\", \"ops\": [\"write\"]}");
            lines.add("     ]},");
        }
        lines.add("    {\"name\": \"file\", \"spec\": \"" + image + ",size=1M\"}");
        lines.add("  ]");
        lines.add("}");
        assertTrue(lines.get(39).contains("explode"), "the mistake is on line 40: " + lines.get(39));
        Path config = dir.resolve("line40.json");
        Files.writeString(config, String.join("\n", lines) + "\n");

        CommandResult result = FaultdiskCli.run("serve", "--config", config.toString());
        assertEquals(2, result.exit(), result.toString());
        assertTrue(result.stderr().contains(config + ":40: exports[6].faults[1].type"), result.stderr());
        assertTrue(result.stderr().contains("nothing started"), result.stderr());
        assertFalse(result.stdout().contains("serving NBD"), result.stdout());
        assertFalse(Files.exists(image), "no export was opened or created");
    }
}
