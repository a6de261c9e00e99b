package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code faultdisk serve --journal FILE --seed N}: the journal file holds the faults with the seeds in force. */
class ServeJournalTest {

    @Test
    @SuppressWarnings("unchecked")
    void journalFileRecordsRulesAndFaultsWithTheirSeeds(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path journal = dir.resolve("faults.jsonl");
        try (ServeProcess server = ServeProcess.start(
                "--export",
                "d=memory:8M",
                "--nbd",
                "127.0.0.1:0",
                "--qmp",
                "127.0.0.1:0",
                "--journal",
                journal.toString(),
                "--seed",
                "5")) {
            assertTrue(
                    server.banner().contains("Fault seed 5; fault journal in " + journal + "."),
                    server.banner().toString());
            try (FaultdiskClient fd = FaultdiskClient.connect(server.qmp())) {
                fd.faultAdd("d", FaultRule.error().ops("read").range(0, 4096));
            }
            CommandResult r = QemuIo.run(server.uri("d"), "read 0 4k", "read 8k 4k");
            assertEquals(
                    List.of("read failed: Input/output error", "read 4096/4096 bytes at offset 8192"),
                    QemuIo.reports(r.stdout()));

            server.terminate(Duration.ofSeconds(20));
            List<Map<String, Object>> lines = new ArrayList<>();
            for (String line : Files.readAllLines(journal)) {
                lines.add((Map<String, Object>) Json.parse(line));
            }
            assertEquals(
                    List.of("rules-added", "fault"),
                    lines.stream().map(l -> l.get("event")).toList());
            Map<String, Object> rule = ((List<Map<String, Object>>) lines.get(0).get("rules")).getFirst();
            Map<String, Object> fault = lines.get(1);
            assertEquals(rule.get("seed"), fault.get("seed"), "the fault names the seed in force");
            assertEquals("error EIO", fault.get("action"));
            assertEquals(0L, fault.get("offset"));
            assertEquals(List.of(1L, 2L), lines.stream().map(l -> l.get("seq")).toList());
        }
    }
}
