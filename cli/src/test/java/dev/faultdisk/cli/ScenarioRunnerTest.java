package dev.faultdisk.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.export.Export;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.BlockOp;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scenario runner against an in-process server; "at" steps on a fake clock. */
class ScenarioRunnerTest {
    private FaultdiskServer server;
    private FaultdiskClient client;
    private final List<Map<String, Object>> journal = new CopyOnWriteArrayList<>();
    private final List<String> progress = new CopyOnWriteArrayList<>();
    /** Own threads: the common pool may have only one, and the runner blocks in it. */
    private final ExecutorService threads = Executors.newCachedThreadPool();

    /** Time that passes only when slept on. */
    private static final class FakeTicker implements Ticker {
        private Instant now = Instant.parse("2024-01-01T00:00:00Z");

        @Override
        public synchronized Instant now() {
            return now;
        }

        @Override
        public synchronized void sleep(Duration d) {
            now = now.plus(d);
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = FaultdiskServer.builder()
                .export("disk0=memory:1M")
                .export("d1=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0))
                .start();
        client = FaultdiskClient.connect(server.qmpAddresses().getFirst(), Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
        threads.shutdownNow();
    }

    private ScenarioRunner runner(Ticker ticker, boolean keepGoing) {
        return new ScenarioRunner(
                client, ticker, Duration.ofMillis(10), keepGoing, Journal.none().echoTo(journal::add), progress::add);
    }

    private Export disk0() {
        return server.exports().find("disk0").orElseThrow();
    }

    private CompletableFuture<Void> write(long offset) {
        return CompletableFuture.runAsync(
                () -> {
                    try {
                        disk0().device().write(BlockRequest.of(BlockOp.WRITE, offset, 512), ByteBuffer.allocate(512));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                },
                threads);
    }

    @Test
    void timedStepsRunAtTheirOffsets() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"name": "timed", "steps": [
                  {"at": "5s", "execute": "blkdebug-set-rules", "arguments": {"device": "disk0",
                     "rules": [{"type": "inject-error", "event": "write_aio", "errno": 28}]}},
                  {"execute": "query-blkdebug-rules", "arguments": {"device": "disk0"}},
                  {"at": "1m", "execute": "blkdebug-clear-rules", "arguments": {"device": "disk0"}}
                ]}""", "timed.json");
        ScenarioRunner.Outcome o = runner(new FakeTicker(), false).run(s, "timed.json");
        assertEquals(new ScenarioRunner.Outcome(3, 3, 0, Duration.ofMinutes(1), ExitCodes.OK), o);
        assertEquals(5, journal.size(), "header, 3 steps, summary");
        assertEquals(Journal.FORMAT, journal.getFirst().get("journal"));
        assertEquals(
                List.of(5000L, 5000L, 60000L),
                journal.subList(1, 4).stream().map(e -> e.get("elapsed-ms")).toList());
        assertEquals(Map.of("at", "5s"), journal.get(1).get("trigger"));
        @SuppressWarnings("unchecked")
        Map<String, Object> listed = (Map<String, Object>) journal.get(2).get("return");
        assertEquals(1, ((List<?>) listed.get("rules")).size(), "the rule was there for step 2");
        assertTrue(disk0().blkdebug().rules().isEmpty(), "step 3 cleared it");
        assertEquals(
                "[   5.000s] step 1/3 at 5s: blkdebug-set-rules {\"device\": \"disk0\", \"rules\": [{\"type\": "
                        + "\"inject-error\", \"event\": \"write_aio\", \"errno\": 28}]} -> ok",
                progress.getFirst());
        assertTrue(progress.get(2).startsWith("[  60.000s] step 3/3 at 1m: blkdebug-clear-rules"), progress.get(2));
        assertEquals(
                Map.of(
                        "summary",
                        Map.of("steps", 3L, "done", 3L, "failed", 0L, "not-run", 0L, "elapsed-ms", 60000L, "exit", 0L)),
                dev.faultdisk.wire.json.Json.parse(dev.faultdisk.wire.json.Json.write(journal.getLast())));
    }

    /** The progress lines about steps done or failed (without the "waiting: ..." lines). */
    private List<String> stepLines() {
        return progress.stream().filter(l -> !l.contains(": waiting: ")).toList();
    }

    @Test
    void afterWritesActsInsideTheWriteThatFollowsTheNth() throws Exception {
        write(0).get(5, TimeUnit.SECONDS); // before the run: not counted
        Scenario s = ScenarioParser.parse("""
                {"device": "disk0", "steps": [
                  {"after-writes": 3, "execute": "blkdebug-set-rules", "arguments": {"device": "disk0",
                     "rules": [{"type": "inject-error", "event": "write_aio", "errno": 5}]}}
                ]}""", "w.json");
        CompletableFuture<ScenarioRunner.Outcome> run = CompletableFuture.supplyAsync(
                () -> runner(Ticker.system(), false).run(s, "w.json"), threads);
        await("the step waiting on the server")
                .atMost(Duration.ofSeconds(5))
                .until(() -> progress.stream().anyMatch(l -> l.endsWith("step 1/1: waiting: 0/4 write on disk0")));
        for (int i = 0; i < 3; i++) {
            write(512L * i).get(5, TimeUnit.SECONDS);
        }
        assertTrue(disk0().blkdebug().rules().isEmpty(), "three writes: the step waits for the fourth");
        assertEquals(
                List.of("3/4 write on disk0"), client.queryTriggers().getFirst().waiting());
        // the rule the step sets applies to the very write that fired it
        java.util.concurrent.ExecutionException e = assertThrows(
                java.util.concurrent.ExecutionException.class, () -> write(1536).get(5, TimeUnit.SECONDS));
        assertEquals(5, ((DeviceException) e.getCause().getCause()).errno());
        assertEquals(ExitCodes.OK, run.get(10, TimeUnit.SECONDS).exitCode());
        @SuppressWarnings("unchecked")
        Map<String, Object> trigger = (Map<String, Object>) journal.get(1).get("trigger");
        assertEquals(3L, trigger.get("writes"));
        @SuppressWarnings("unchecked")
        Map<String, Object> in = (Map<String, Object>) trigger.get("in");
        assertEquals(List.of("write", 1536L, 512L), List.of(in.get("operation"), in.get("offset"), in.get("length")));
        assertEquals("ok", journal.get(1).get("outcome"));
        assertTrue(
                stepLines()
                        .getFirst()
                        .contains("step 1/1 after 3 writes on disk0 (inside the next: write of 512 bytes"
                                + " at 1536): blkdebug-set-rules"),
                stepLines().getFirst());
        assertTrue(server.triggers().describe().isEmpty(), "the run removed its trigger");

        StringBuilder text = new StringBuilder();
        journal.forEach(
                entry -> text.append(dev.faultdisk.wire.json.Json.write(entry)).append('\n'));
        assertEquals(
                new Scenario.Trigger.AfterRequests("write", "disk0", 3),
                JournalReplay.scenario(text.toString(), "w.json.journal.jsonl")
                        .steps()
                        .getFirst()
                        .trigger(),
                "a replay acts inside the same write again");
    }

    /** docs/scenarios/held-write-fails-in-its-flush.json as docs/SCENARIOS.md tells it, on a fake clock. */
    @Test
    void theDocumentedScenarioHoldsTheWriteAfterTheHundredthAndFailsIt() throws Exception {
        java.nio.file.Path file = java.nio.file.Path.of("../docs/scenarios/held-write-fails-in-its-flush.json");
        Scenario s = ScenarioParser.parse(java.nio.file.Files.readString(file), file.toString());
        // On the fake clock the 60 s step would follow the 30 s resume at once, and could clear the
        // rules before the resumed write reaches its flush; in real time 30 s pass. So time moves
        // past 30 s only once that write has finished.
        java.util.concurrent.atomic.AtomicReference<CompletableFuture<Void>> resumed =
                new java.util.concurrent.atomic.AtomicReference<>();
        FakeTicker fake = new FakeTicker();
        Instant start = fake.now();
        Ticker ticker = new Ticker() {
            @Override
            public Instant now() {
                return fake.now();
            }

            @Override
            public void sleep(Duration d) {
                if (fake.now().isAfter(start.plusSeconds(29)) && resumed.get() != null) {
                    await("the resumed write done")
                            .atMost(Duration.ofSeconds(10))
                            .until(() -> resumed.get().isDone());
                }
                fake.sleep(d);
            }
        };
        CompletableFuture<ScenarioRunner.Outcome> run =
                CompletableFuture.supplyAsync(() -> runner(ticker, false).run(s, file.toString()), threads);
        await("step 2 waiting")
                .atMost(Duration.ofSeconds(5))
                .until(() -> progress.stream().anyMatch(l -> l.contains("step 2/5 \"hold the next write\": waiting")));
        for (int i = 0; i < 100; i++) {
            write(4096L * i).get(5, TimeUnit.SECONDS);
        }
        // a writethrough client's write: FUA, so its data must reach the disk before it completes
        CompletableFuture<Void> late = CompletableFuture.runAsync(
                () -> {
                    try {
                        disk0().device()
                                .write(
                                        BlockRequest.of(BlockOp.WRITE, 1 << 20, 4096, BlockRequest.Flag.FUA),
                                        ByteBuffer.allocate(4096));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                },
                threads);
        resumed.set(late);
        assertEquals(ExitCodes.OK, run.get(10, TimeUnit.SECONDS).exitCode());
        java.util.concurrent.ExecutionException e =
                assertThrows(java.util.concurrent.ExecutionException.class, () -> late.get(5, TimeUnit.SECONDS));
        assertEquals(5, ((DeviceException) e.getCause().getCause()).errno(), "its flush failed");
        @SuppressWarnings("unchecked")
        Map<String, Object> hit =
                (Map<String, Object>) ((Map<String, Object>) journal.get(3).get("trigger")).get("hit");
        assertEquals(List.of("write-fua", 1048576L), List.of(hit.get("operation"), hit.get("offset")));
        assertTrue(
                stepLines()
                        .get(1)
                        .contains("step 2/5 \"hold the next write\" after 100 writes on disk0 (inside the"
                                + " next: write of 4096 bytes at 1048576): blkdebug-set-breakpoint"),
                stepLines().get(1));
    }

    @Test
    void afterFlushesActsInsideTheFlushThatFollowsTheNth() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"device": "disk0", "steps": [
                  {"after-flushes": 1, "execute": "fault-add", "arguments": {"device": "disk0",
                     "rules": [{"type": "error", "ops": ["flush"], "errno": "EIO", "times": 1}]}}
                ]}""", "f.json");
        CompletableFuture<ScenarioRunner.Outcome> run = CompletableFuture.supplyAsync(
                () -> runner(Ticker.system(), false).run(s, "f.json"), threads);
        await("the step waiting on the server")
                .atMost(Duration.ofSeconds(5))
                .until(() -> progress.stream().anyMatch(l -> l.endsWith("step 1/1: waiting: 0/2 flush on disk0")));
        disk0().device().flush(BlockRequest.flush());
        // the rule the step adds applies to the flush it runs inside
        DeviceException e =
                assertThrows(DeviceException.class, () -> disk0().device().flush(BlockRequest.flush()));
        assertEquals(5, e.errno());
        assertEquals(ExitCodes.OK, run.get(10, TimeUnit.SECONDS).exitCode());
        @SuppressWarnings("unchecked")
        Map<String, Object> trigger = (Map<String, Object>) journal.get(1).get("trigger");
        assertEquals(1L, trigger.get("after-flushes"));
        assertEquals(1L, trigger.get("flushes"));
        assertTrue(
                stepLines().getFirst().contains("step 1/1 after 1 flush on disk0 (inside the next: flush"),
                stepLines().getFirst());
    }

    @Test
    void consecutiveRequestStepsCountFromWhereTheStepBeforeFired() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"device": "disk0", "timeout": "10s", "steps": [
                  {"after-writes": 2, "execute": "blkdebug-set-breakpoint", "arguments": {"device": "disk0", "event": "write_aio", "tag": "w"}},
                  {"on-breakpoint": "w", "execute": "blkdebug-set-rules", "arguments": {"device": "disk0",
                     "rules": [{"type": "inject-error", "event": "write_aio", "errno": 28}]}},
                  {"resume": "w"},
                  {"after-writes": 1, "execute": "blkdebug-clear-rules", "arguments": {"device": "disk0"}}
                ]}""", "c.json");
        CompletableFuture<ScenarioRunner.Outcome> run = CompletableFuture.supplyAsync(
                () -> runner(Ticker.system(), false).run(s, "c.json"), threads);
        await("steps 1 and 2 armed together")
                .atMost(Duration.ofSeconds(5))
                .until(() -> server.triggers().describe().size() == 2);
        write(0).get(5, TimeUnit.SECONDS);
        write(512).get(5, TimeUnit.SECONDS);
        // the third write sets the breakpoint inside itself and is held at it; step 2 arms an error
        // while it is held, step 3 lets it go on
        write(1024).get(10, TimeUnit.SECONDS);
        await("step 4 armed after the resume").atMost(Duration.ofSeconds(5)).until(() -> journal.size() == 4);
        assertThrows(
                java.util.concurrent.ExecutionException.class, () -> write(2048).get(5, TimeUnit.SECONDS));
        write(2560).get(5, TimeUnit.SECONDS); // the rule was cleared inside it
        assertEquals(ExitCodes.OK, run.get(10, TimeUnit.SECONDS).exitCode());
        @SuppressWarnings("unchecked")
        Map<String, Object> hit =
                (Map<String, Object>) ((Map<String, Object>) journal.get(2).get("trigger")).get("hit");
        assertEquals(1024L, hit.get("offset"));
        assertTrue(server.triggers().describe().isEmpty(), "the run removed its triggers");
    }

    @Test
    void breakpointStepsActWhileTheRequestIsHeld() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"device": "disk0", "timeout": "10s", "steps": [
                  {"execute": "blkdebug-set-breakpoint", "arguments": {"device": "disk0", "event": "write_aio", "tag": "w"}},
                  {"name": "while held", "on-breakpoint": "w", "execute": "query-blkdebug-breakpoints", "arguments": {"device": "disk0"}},
                  {"resume": "w"}
                ]}""", "b.json");
        CompletableFuture<ScenarioRunner.Outcome> run = CompletableFuture.supplyAsync(
                () -> runner(Ticker.system(), false).run(s, "b.json"), threads);
        await("the breakpoint set")
                .atMost(Duration.ofSeconds(5))
                .until(() -> !disk0().blkdebug().breakpoints().isEmpty());
        CompletableFuture<Void> held = write(4096);
        assertEquals(ExitCodes.OK, run.get(10, TimeUnit.SECONDS).exitCode());
        held.get(10, TimeUnit.SECONDS);
        @SuppressWarnings("unchecked")
        Map<String, Object> trigger = (Map<String, Object>) journal.get(2).get("trigger");
        assertEquals(
                Map.of(
                        "device",
                        "disk0",
                        "tag",
                        "w",
                        "event",
                        "write_aio",
                        "operation",
                        "write",
                        "offset",
                        4096L,
                        "length",
                        512L),
                trigger.get("hit"));
        @SuppressWarnings("unchecked")
        Map<String, Object> during = (Map<String, Object>) journal.get(2).get("return");
        assertEquals(1, ((List<?>) during.get("suspended")).size(), "step 2 ran while the write was held");
        assertEquals("while held", journal.get(2).get("name"));
        assertTrue(
                stepLines()
                        .get(1)
                        .contains("step 2/3 \"while held\" on breakpoint w (disk0 write of 512 bytes at 4096)"),
                stepLines().get(1));
        assertTrue(
                progress.stream()
                        .anyMatch(l -> l.endsWith("step 2/3 \"while held\": waiting: 0/1 breakpoint-hit w on disk0")),
                progress.toString());
    }

    @Test
    void aRefusedStepStopsTheRunUnlessKeepGoing() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"steps": [
                  {"execute": "blkdebug-clear-rules", "arguments": {"device": "nope"}},
                  {"execute": "blkdebug-set-rules", "arguments": {"device": "disk0", "rules": [
                    {"type": "inject-error", "event": "read_aio"}]}}
                ]}""", "f.json");
        ScenarioRunner.Outcome stopped = runner(new FakeTicker(), false).run(s, "f.json");
        assertEquals(new ScenarioRunner.Outcome(2, 0, 1, Duration.ZERO, ExitCodes.REFUSED), stopped);
        assertEquals(
                Map.of("class", "DeviceNotFound", "desc", "Device 'nope' not found (exports: disk0, d1)"),
                journal.get(1).get("error"));
        assertTrue(disk0().blkdebug().rules().isEmpty(), "step 2 did not run");
        assertTrue(
                progress.getFirst().endsWith("-> DeviceNotFound: Device 'nope' not found (exports: disk0, d1)"),
                progress.getFirst());

        journal.clear();
        ScenarioRunner.Outcome kept = runner(new FakeTicker(), true).run(s, "f.json");
        assertEquals(new ScenarioRunner.Outcome(2, 1, 1, Duration.ZERO, ExitCodes.REFUSED), kept);
        assertEquals(1, disk0().blkdebug().rules().size());
    }

    @Test
    void aTriggerThatNeverComesTimesOut() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"device": "disk0", "steps": [
                  {"on-breakpoint": "never", "timeout": "200ms", "execute": "query-block"},
                  {"execute": "query-block"}
                ]}""", "t.json");
        ScenarioRunner.Outcome o = runner(Ticker.system(), false).run(s, "t.json");
        assertEquals(ExitCodes.TIMEOUT, o.exitCode());
        assertEquals(0, o.done());
        assertEquals("timeout", journal.get(1).get("outcome"));
        assertTrue(
                stepLines().getFirst().contains("no request hit breakpoint never on disk0 within 200ms"),
                stepLines().getFirst());
        assertTrue(server.triggers().describe().isEmpty(), "the run removed its trigger");

        Scenario writes = ScenarioParser.parse("""
                {"steps": [{"after-writes": 5, "device": "disk0", "timeout": "1s", "execute": "query-block"}]}""", "w.json");
        progress.clear();
        assertEquals(
                ExitCodes.TIMEOUT,
                runner(new FakeTicker(), false).run(writes, "w.json").exitCode());
        assertTrue(
                stepLines()
                        .getFirst()
                        .contains("no write after the first 5 on disk0 within 1s (waiting: 0/6 write on disk0)"),
                stepLines().getFirst());
    }

    @Test
    void checkFindsUnknownCommandsAndExports() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"steps": [
                  {"execute": "fault-from-the-future"},
                  {"after-writes": 1, "device": "nope", "execute": "query-block"},
                  {"resume": "t", "device": "gone"},
                  {"execute": "query-block"}
                ]}""", "c.json");
        assertEquals(
                List.of(
                        "step 1: the server has no command 'fault-from-the-future' (faultdisk qmp query-commands lists them)",
                        "step 2: the server has no export 'nope' (it has [d1, disk0])",
                        "step 3: the server has no export 'gone' (it has [d1, disk0])"),
                ScenarioRunner.check(s, client));
    }

    @Test
    void aJournalReplaysAtTheRecordedMoments() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"name": "orig", "device": "disk0", "steps": [
                  {"at": "2s", "execute": "blkdebug-set-breakpoint", "arguments": {"device": "disk0", "event": "write_aio", "tag": "w"}},
                  {"name": "refused", "execute": "blkdebug-clear-rules", "arguments": {"device": "nope"}},
                  {"on-breakpoint": "w", "timeout": "100ms", "execute": "query-block"}
                ]}""", "o.json");
        runner(new FakeTicker(), true).run(s, "o.json");
        StringBuilder text = new StringBuilder();
        for (Map<String, Object> entry : journal) {
            text.append(dev.faultdisk.wire.json.Json.write(entry)).append('\n');
        }
        Scenario replay = JournalReplay.scenario(text.toString(), "o.json.journal.jsonl");
        assertEquals("replay of orig", replay.name());
        assertEquals(
                List.of(
                        new Scenario.Step(
                                1,
                                "",
                                new Scenario.Trigger.At(Duration.ofSeconds(2)),
                                new Scenario.Action.Execute(
                                        "blkdebug-set-breakpoint",
                                        Map.of("device", "disk0", "event", "write_aio", "tag", "w")),
                                ScenarioParser.DEFAULT_TIMEOUT),
                        new Scenario.Step(
                                2,
                                "refused",
                                new Scenario.Trigger.At(Duration.ofSeconds(2)),
                                new Scenario.Action.Execute("blkdebug-clear-rules", Map.of("device", "nope")),
                                ScenarioParser.DEFAULT_TIMEOUT)),
                replay.steps(),
                "the timed-out step never ran, so it is not replayed");

        ScenarioException e =
                assertThrows(ScenarioException.class, () -> JournalReplay.scenario("{\"steps\": []}\n", "x"));
        assertTrue(e.getMessage().contains("not a faultdisk scenario journal"), e.getMessage());
    }
}
