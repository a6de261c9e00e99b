package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cli.campaign.CampaignParser;
import dev.faultdisk.cli.campaign.CampaignRunner;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restart phase and parallel runs, on SQLite (the sqlite3 shell) on ext4: the demonstration
 * file docs/campaigns/sqlite-1.json loses or tears the first write to each part of the database
 * in each run. Without a restart the check reads the page cache, which holds what the
 * application wrote, and no run finds anything; with the restart (unmount, a fresh loop device,
 * mount) the check reads what reached the disk and the committed row is gone or the database is
 * damaged. The same campaign with two runs at once (clones, own mounts, own network namespace)
 * classifies every run as the one-at-a-time campaign did, and leaves nothing behind.
 */
class CampaignRestartSqliteTest {
    @Test
    void restartRevealsLostAndTornWritesAndParallelRunsClassifyAlike(@TempDir Path dir) throws Exception {
        FuseLoopDisk.requireAll();
        Tools.require("sqlite3", "blockdev", "mountpoint", "ip");
        Path scripts = Files.createDirectories(dir.resolve("sqlite"));
        try (Stream<Path> s = Files.list(Path.of("..", "docs", "campaigns", "sqlite"))) {
            for (Path p : s.toList()) {
                Files.copy(p, scripts.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        try (FaultdiskServer server = FaultdiskServer.builder()
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0))
                .export("spare=memory:1M")
                .start()) {
            Map<String, Map<String, Object>> never = campaign(server, dir, "never", 1);
            assertEquals(6, never.size(), "two fault kinds on three parts of the database: " + never.keySet());
            for (Map<String, Object> r : never.values()) {
                assertEquals(false, r.get("restarted"), r.toString());
                assertTrue(
                        List.of("correct", "not-hit").contains(r.get("outcome")),
                        "without a restart the page cache hides the fault: " + r);
            }

            Map<String, Map<String, Object>> restarted = campaign(server, dir, "write-faults", 1);
            assertEquals(never.keySet(), restarted.keySet());
            for (Map<String, Object> r : restarted.values()) {
                assertEquals(true, r.get("restarted"), r.toString());
                assertTrue(((Number) r.get("faults-fired")).longValue() > 0, "the fault fired: " + r);
            }
            Map<String, Long> seen = restarted.values().stream()
                    .collect(Collectors.groupingBy(
                            r -> r.get("fault") + " " + r.get("outcome"), TreeMap::new, Collectors.counting()));
            assertTrue(seen.containsKey("lost-write data-lost"), "a lost write loses a committed row: " + seen);
            assertTrue(
                    seen.keySet().stream().anyMatch(k -> k.startsWith("torn-write ") && !k.endsWith(" correct")),
                    "a torn write is seen after the restart: " + seen);

            Map<String, Map<String, Object>> parallel = campaign(server, dir, "write-faults", 2);
            assertEquals(outcomes(restarted), outcomes(parallel), "two at a time, every run classified alike");
            assertTrue(
                    parallel.values().stream().anyMatch(r -> ((Number) r.get("slot")).intValue() == 1),
                    "the second slot ran some: " + parallel.values());
            assertEquals(
                    List.of("spare"),
                    server.exports().all().stream().map(e -> e.name()).toList());
            assertFalse(
                    Command.run(Duration.ofSeconds(10), "ip", "netns", "list")
                            .stdout()
                            .contains("sqlite1"),
                    "the slot's network namespace is gone");
            assertFalse(Files.readString(Path.of("/proc/self/mounts")).contains(dir.toString()), "nothing mounted");
        }
    }

    private static Map<String, String> outcomes(Map<String, Map<String, Object>> runs) {
        Map<String, String> out = new TreeMap<>();
        runs.forEach((id, r) -> out.put(id, (String) r.get("outcome")));
        return out;
    }

    /** Runs the demonstration campaign against {@code server}; returns report.json's runs by id. */
    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> campaign(
            FaultdiskServer server, Path dir, String restart, int parallel) throws Exception {
        InetSocketAddress qmp = (InetSocketAddress) server.qmpAddresses().getFirst();
        Path work = dir.resolve("work-" + restart + "-" + parallel);
        String text = Files.readString(Path.of("..", "docs", "campaigns", "sqlite-1.json"))
                .replace("127.0.0.1:4444", "127.0.0.1:" + qmp.getPort())
                // no NBD URI in the file: the campaign asks the server where it serves each export
                .replace("\"restart\": \"write-faults\"", "\"restart\": \"" + restart + "\"")
                .replace("/var/tmp/faultdisk-campaign-sqlite1", work.toString());
        Path file = dir.resolve("sqlite-" + restart + "-" + parallel + ".json");
        Files.writeString(file, text);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        try (CampaignRunner runner = new CampaignRunner(
                CampaignParser.parse(file, null), new PrintStream(progress, true, StandardCharsets.UTF_8))) {
            runner.run(new CampaignRunner.Options(null, 0, false, parallel));
        }
        Map<String, Object> report = Json.parseObject(Files.readString(work.resolve("report.json")));
        Map<String, Map<String, Object>> runs = new TreeMap<>();
        for (Object r : (List<Object>) report.get("runs")) {
            Map<String, Object> run = (Map<String, Object>) r;
            runs.put((String) run.get("id"), run);
        }
        return runs;
    }
}
