package dev.faultdisk.interop;

import dev.faultdisk.wire.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultdisk serve --journal FILE --seed N}: the journal file holds the faults with the seeds in force. */
class ServeJournalTest {

    @Test
    @SuppressWarnings("unchecked")
    void journalFileRecordsRulesAndFaultsWithTheirSeeds(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path journal = dir.resolve("faults.jsonl");
        Process server = ServeProcessTest.startServe("--export", "d=memory:8M", "--nbd", "127.0.0.1:0",
                "--qmp", "127.0.0.1:0", "--journal", journal.toString(), "--seed", "5");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String nbd = null;
            String qmp = null;
            List<String> banner = new ArrayList<>();
            for (String line; (line = out.readLine()) != null && !line.startsWith("Stop with"); ) {
                banner.add(line);
                Matcher m = Pattern.compile("(NBD|QMP control) on 127\\.0\\.0\\.1:(\\d+)").matcher(line);
                if (m.find()) {
                    if (m.group(1).equals("NBD")) {
                        nbd = m.group(2);
                    } else {
                        qmp = m.group(2);
                    }
                }
            }
            assertNotNull(nbd, banner.toString());
            assertNotNull(qmp, banner.toString());
            assertTrue(banner.contains("Fault seed 5; fault journal in " + journal + "."), banner.toString());
            try (Qmp q = new Qmp(new InetSocketAddress("127.0.0.1", Integer.parseInt(qmp)))) {
                q.addFaults("d", "[{\"type\": \"error\", \"ops\": [\"read\"], \"offset\": 0, \"length\": 4096}]");
            }
            Tools.Result r = QemuIo.run("nbd://127.0.0.1:" + nbd + "/d", "read 0 4k", "read 8k 4k");
            assertEquals(List.of("read failed: Input/output error", "read 4096/4096 bytes at offset 8192"),
                    QemuIo.reports(r.stdout()));

            Tools.run(Duration.ofSeconds(5), "kill", "-TERM", Long.toString(server.pid())).assertOk("kill");
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "server exits after SIGTERM");
            List<Map<String, Object>> lines = new ArrayList<>();
            for (String line : Files.readAllLines(journal)) {
                lines.add((Map<String, Object>) Json.parse(line));
            }
            assertEquals(List.of("rules-added", "fault"), lines.stream().map(l -> l.get("event")).toList());
            Map<String, Object> rule = ((List<Map<String, Object>>) lines.get(0).get("rules")).getFirst();
            Map<String, Object> fault = lines.get(1);
            assertEquals(rule.get("seed"), fault.get("seed"), "the fault names the seed in force");
            assertEquals("error EIO", fault.get("action"));
            assertEquals(0L, fault.get("offset"));
            assertEquals(List.of(1L, 2L), lines.stream().map(l -> l.get("seq")).toList());
        } finally {
            server.destroyForcibly();
        }
    }
}
