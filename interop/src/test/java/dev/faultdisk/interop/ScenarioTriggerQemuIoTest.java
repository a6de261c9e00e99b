package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scenario run by {@code faultdisk run} as a process against qemu-io writing as fast as it can
 * (issue 11): "after 20 writes, set a breakpoint on the next write" acts inside the 21st write, so
 * the write at 20 x 4096 is the one held; the step after it runs while that write is held.
 */
@Faultdisk(exports = "d=memory:16M")
class ScenarioTriggerQemuIoTest {
    private static final int BLOCK = 4096;

    @Test
    void afterTwentyWritesTheBreakpointHoldsTheTwentyFirst(
            FaultdiskServer server, FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        Tools.require("qemu-io");
        String qmp = "127.0.0.1:" + ((InetSocketAddress) server.qmpAddresses().getFirst()).getPort();
        Path file = dir.resolve("late.json");
        Files.writeString(file, """
                {"name": "a breakpoint after 20 writes", "device": "d", "timeout": "60s", "steps": [
                  {"after-writes": 20, "execute": "blkdebug-set-breakpoint",
                   "arguments": {"device": "d", "event": "write_aio", "tag": "late"}},
                  {"on-breakpoint": "late", "execute": "query-blockstats", "arguments": {"device": "d"}},
                  {"resume": "late"}
                ]}""");
        List<String> writes = new ArrayList<>();
        for (int i = 0; i < 41; i++) {
            writes.add("write -P " + (1 + i) + " " + (long) i * BLOCK + " 4k");
        }
        Process run = FaultdiskCli.startIn(dir, "run", file.toString(), "--qmp", qmp);
        CompletableFuture<CommandResult> io;
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(run.getInputStream(), StandardCharsets.UTF_8));
            assertTrue(out.readLine().startsWith("faultdisk run: a breakpoint after 20 writes, 3 steps"));
            String waiting = out.readLine();
            assertTrue(waiting.endsWith("step 1/3: waiting: 0/21 write on d"), waiting);
            // unpaced: each -c is one write, sent as soon as the one before completed
            io = QemuIo.start(List.of("-t", "writeback"), uri, writes.toArray(new String[0]));
            assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the run ended");
            String rest = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, run.exitValue(), rest);
            assertTrue(
                    rest.contains("step 1/3 after 20 writes on d (inside the next: write of 4096 bytes at " + 20 * BLOCK
                            + "): blkdebug-set-breakpoint"),
                    rest);
            assertTrue(
                    rest.contains("step 2/3 on breakpoint late (d write of 4096 bytes at " + 20 * BLOCK + ")"), rest);
            assertTrue(rest.contains("summary: 3 of 3 steps done, 0 failed, 0 not run"), rest);
        } finally {
            run.destroyForcibly();
        }
        CommandResult r = io.get(60, TimeUnit.SECONDS).assertOk("qemu-io");
        assertEquals(
                41,
                QemuIo.reports(r.stdout()).stream()
                        .filter(l -> l.startsWith("wrote 4096/4096"))
                        .count(),
                r.stdout());

        List<String> journal = Files.readAllLines(dir.resolve("late.json.journal.jsonl"));
        Map<?, ?> step2 = (Map<?, ?>) Json.parse(journal.get(2));
        Map<?, ?> hit = (Map<?, ?>) ((Map<?, ?>) step2.get("trigger")).get("hit");
        assertEquals(20L * BLOCK, hit.get("offset"), "the 21st write was held");
        List<?> stats = (List<?>) step2.get("return");
        Map<?, ?> write = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) stats.getFirst()).get("stats")).get("write");
        assertEquals(20L, write.get("operations"), "step 2 ran while the 21st write was held: 20 done");
        assertTrue(fd.queryTriggers().isEmpty(), "the run removed its triggers");
    }
}
