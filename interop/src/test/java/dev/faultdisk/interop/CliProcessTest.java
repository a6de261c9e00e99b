package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control commands as real processes against a real server, with qemu-io as the client whose
 * requests fail or are held: output, JSON output and exit codes.
 */
@Faultdisk(exports = {"disk0=memory:8M", "d1=memory:1M"})
class CliProcessTest {
    private FaultdiskServer server;
    private String qmp;
    private String uri;

    @BeforeEach
    void start(FaultdiskServer server, @ExportUri("disk0") String uri) {
        this.server = server;
        this.qmp = "127.0.0.1:" + ((InetSocketAddress) server.qmpAddresses().getFirst()).getPort();
        this.uri = uri;
    }

    private CommandResult cli(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--qmp";
        all[args.length + 1] = qmp;
        return FaultdiskCli.run(all);
    }

    private CommandResult qemuIo(String command) {
        return QemuIo.run(uri, command);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> jsonList(String text) {
        return (List<Map<String, Object>>) Json.parse(text);
    }

    @Test
    void exportsAsTextAndJson() {
        Tools.require("qemu-io");
        qemuIo("write -P 7 0 4k").assertOk("qemu-io");
        CommandResult text = cli("exports").assertOk("exports");
        List<String> lines = text.stdout().lines().toList();
        assertEquals(3, lines.size(), text.stdout());
        assertTrue(
                lines.get(0).matches("EXPORT +SIZE +MODE +CONNS +READS +WRITES +ERRORS +BLKDEBUG +BACKING"),
                lines.get(0));
        assertTrue(
                lines.get(1).matches("disk0 +8 MiB +rw +0 +\\d+ +1 +0 +state 1, 0 rules +memory, 8 MiB"), lines.get(1));
        assertTrue(lines.get(2).startsWith("d1 "), lines.get(2));

        List<Map<String, Object>> json =
                jsonList(cli("exports", "--json").assertOk("exports --json").stdout());
        assertEquals(
                List.of("disk0", "d1"), json.stream().map(e -> e.get("device")).toList());
        assertEquals(8L << 20, json.get(0).get("size"));
        assertEquals(
                Map.of("operations", 1L, "bytes", 4096L, "errors", 0L),
                ((Map<?, ?>) json.get(0).get("stats")).get("write"));
    }

    @Test
    void blkdebugRulesFromTheShellFailARealClientsWrite() {
        Tools.require("qemu-io");
        CommandResult set = cli("blkdebug", "set-rules", "disk0", "--inject-error", "write_aio,errno=ENOSPC,once");
        set.assertOk("set-rules");
        assertTrue(set.stdout().startsWith("disk0: added 1 rule; state reset to 1\n"), set.stdout());
        assertTrue(set.stdout().contains("#0 inject-error write_aio errno=28 (ENOSPC)"), set.stdout());

        CommandResult failed = qemuIo("write -P 1 0 4k");
        assertTrue(failed.stdout().contains("write failed: No space left on device"), failed.stdout());
        qemuIo("write -P 1 0 4k").assertOk("once: the second write works");

        Map<?, ?> listed = (Map<?, ?>) Json.parse(
                cli("blkdebug", "list", "disk0", "--json").assertOk("list").stdout());
        assertEquals(1L, listed.get("state"));
        cli("blkdebug", "clear", "disk0").assertOk("clear");
        assertTrue(
                server.exports().find("disk0").orElseThrow().blkdebug().rules().isEmpty());
    }

    @Test
    void faultRulesFromTheShellFailARealClientsWriteAndAreListedWithCounts() {
        Tools.require("qemu-io");
        CommandResult added = cli(
                "faults",
                "add",
                "disk0",
                "error,ops=write,offset=0,length=4K,errno=ENOSPC,times=1",
                "delay,ops=read,ms=1");
        added.assertOk("faults add");
        assertTrue(
                added.stdout().matches("disk0: added rule \\d+ \\(error\\)\ndisk0: added rule \\d+ \\(delay\\)\n"),
                added.stdout());

        CommandResult failed = qemuIo("write -P 1 0 4k");
        assertTrue(failed.stdout().contains("write failed: No space left on device"), failed.stdout());
        qemuIo("write -P 1 0 4k").assertOk("times=1: the second write works");
        qemuIo("read -P 1 0 4k").assertOk("delayed, not failed");

        String listed = cli("faults", "list").assertOk("faults list").stdout();
        List<String> lines = listed.lines().toList();
        assertEquals(3, lines.size(), listed);
        assertTrue(lines.get(0).matches("EXPORT +ID +TYPE +STATE +MATCHED +CHOSEN +FIRED +RULE"), lines.get(0));
        assertTrue(lines.get(1).matches("disk0 +\\d+ +error +exhausted +\\d+ +1 +1 +.*errno=.*"), lines.get(1));
        assertTrue(lines.get(2).matches("disk0 +\\d+ +delay +active +\\d+ +\\d+ +[1-9]\\d* +.*ms=1.*"), lines.get(2));

        List<Map<String, Object>> json = jsonList(
                cli("faults", "list", "disk0", "--json").assertOk("list --json").stdout());
        assertEquals(
                List.of("error", "delay"), json.stream().map(f -> f.get("type")).toList());
        assertEquals(1L, json.get(0).get("fired"));
        String journal = cli("faults", "journal", "disk0").assertOk("journal").stdout();
        assertTrue(journal.contains(" disk0 fault ") && journal.contains("ENOSPC"), journal);

        assertEquals(
                "disk0: removed 2 fault rules\n",
                cli("faults", "clear", "disk0").assertOk("clear").stdout());
        assertTrue(server.exports().find("disk0").orElseThrow().faults().rules().isEmpty());
        assertEquals(
                "disk0: no fault rules\n",
                cli("faults", "list", "disk0").assertOk("empty list").stdout());
        CommandResult refused = cli("faults", "add", "disk0", "error,probability=2");
        assertEquals(1, refused.exit(), refused.stderr());
        assertTrue(refused.stderr().contains("probability"), refused.stderr());
        assertEquals(2, cli("faults", "add", "disk0").exit(), "no rules: usage");
    }

    @Test
    void aHangRuleHoldsAReadUntilReleasedFromTheShell() throws Exception {
        Tools.require("qemu-io");
        cli("faults", "add", "disk0", "hang,ops=read").assertOk("add hang");
        CompletableFuture<CommandResult> reader = CompletableFuture.supplyAsync(() -> qemuIo("read 64k 8k"));
        List<Map<String, Object>> held = await("a held read")
                .atMost(Duration.ofSeconds(30))
                .until(
                        () -> jsonList(cli("faults", "held", "disk0", "--json")
                                .assertOk("held")
                                .stdout()),
                        h -> !h.isEmpty());
        assertEquals(1, held.size(), "one read held");
        assertEquals(65536L, held.getFirst().get("offset"));
        assertFalse(reader.isDone(), "held");
        assertEquals(
                "disk0: released " + held.getFirst().get("id") + "\n",
                cli("faults", "release", "disk0").assertOk("release").stdout());
        reader.get(60, TimeUnit.SECONDS).assertOk("the held read");
    }

    @Test
    void aBreakpointHoldsAWriteUntilResumedFromTheShell() throws Exception {
        Tools.require("qemu-io");
        assertEquals(
                "disk0: breakpoint w set at write_aio\n",
                cli("break", "set", "disk0", "write_aio", "w").assertOk("set").stdout());
        CompletableFuture<CommandResult> writer = CompletableFuture.supplyAsync(() -> qemuIo("write -P 0x33 64k 8k"));

        Map<?, ?> hit = (Map<?, ?>) Json.parse(
                cli("break", "wait", "disk0", "w", "--json").assertOk("wait").stdout());
        assertEquals(65536L, hit.get("offset"));
        assertEquals(8192L, hit.get("length"));
        String listed = cli("break", "list").assertOk("list").stdout();
        assertTrue(listed.contains("disk0: w holds a write-fua of 8192 bytes at offset 65536 (write_aio)"), listed);
        assertTrue(listed.contains("d1: no breakpoints"), listed);
        assertFalse(writer.isDone(), "held");

        assertEquals(
                "disk0: resumed w\n",
                cli("break", "resume", "disk0", "w").assertOk("resume").stdout());
        writer.get(60, TimeUnit.SECONDS).assertOk("the held write");
        qemuIo("read -P 0x33 64k 8k").assertOk("written");
    }

    @Test
    void aLyingCacheLosesAcknowledgedWritesWhenThePowerFails() {
        Tools.require("qemu-io");
        assertEquals(
                "disk0: write cache lying-flush\n",
                cli("cache", "mode", "disk0", "lying-flush").assertOk("mode").stdout());
        qemuIo("write -P 0x44 4k 8k").assertOk("write, flushed (or so the disk says)");
        String status = cli("cache", "status", "disk0").assertOk("status").stdout();
        assertTrue(
                status.lines()
                        .skip(1)
                        .findFirst()
                        .orElseThrow()
                        .matches("disk0 +lying-flush +8 KiB +1 +1 +\\d+ ms +0 +0 +no"),
                status);

        CommandResult fail = cli("power-fail", "disk0", "--seed", "7");
        fail.assertOk("power-fail");
        assertEquals(
                "disk0: power failed (drop-all, seed 7): 1 unflushed writes (8192 bytes): 0 kept, 0 torn, 1 lost; "
                        + "8192 bytes lost\n  lost 8192 bytes at offset 4096\n",
                fail.stdout());
        qemuIo("read -P 0 4k 8k").assertOk("the acknowledged write is gone");
        Map<?, ?> after = (Map<?, ?>) Json.parse(cli("cache", "status", "disk0", "--json")
                .assertOk("status --json")
                .stdout());
        assertEquals(1L, after.get("power-fails"));
        assertEquals(2, cli("power-fail", "disk0", "--mode", "gently").exit());
    }

    @Test
    void eventsFollowLiveUntilTheCount() throws Exception {
        Tools.require("qemu-io");
        Process events =
                FaultdiskCli.start("events", "--qmp", qmp, "--json", "--count", "2", "--event", "BLOCK_IO_ERROR");
        try {
            BufferedReader err =
                    new BufferedReader(new InputStreamReader(events.getErrorStream(), StandardCharsets.UTF_8));
            assertEquals("following events of " + qmp, err.readLine(), "connected");
            cli("blkdebug", "set-rules", "disk0", "--inject-error", "write_aio,errno=EIO")
                    .assertOk("set-rules");
            qemuIo("write 0 512");
            qemuIo("write 0 512");
            assertTrue(events.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, events.exitValue());
            List<String> lines = new String(events.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .toList();
            assertEquals(2, lines.size(), lines.toString());
            for (String line : lines) {
                Map<?, ?> e = (Map<?, ?>) Json.parse(line);
                assertEquals("BLOCK_IO_ERROR", e.get("event"));
                assertEquals("Input/output error", ((Map<?, ?>) e.get("data")).get("reason"));
            }
        } finally {
            events.destroyForcibly();
        }
    }

    @Test
    void aFollowerThatFallsBehindIsToldHowManyEventsItMissed() throws Exception {
        Tools.require("kill");
        Process events = FaultdiskCli.start("events", "--qmp", qmp, "--count", "1", "--event", "POWER_FAIL");
        try {
            BufferedReader err =
                    new BufferedReader(new InputStreamReader(events.getErrorStream(), StandardCharsets.UTF_8));
            assertEquals("following events of " + qmp, err.readLine(), "connected");
            // Stopped, it reads nothing: its socket buffers fill, then its session's queue.
            signal(events, "STOP");
            String padding = "x".repeat(1000);
            long emitted = 0;
            while (server.qmp().eventsDropped() == 0 && emitted < 200_000) {
                for (int i = 0; i < 1000; i++, emitted++) {
                    server.qmp().emit("FAULT_INJECTED", Map.of("n", emitted, "padding", padding));
                }
            }
            long dropped = server.qmp().eventsDropped();
            assertTrue(dropped > 0, "nothing dropped after " + emitted + " events");
            signal(events, "CONT");
            cli("power-fail", "disk0").assertOk("power-fail");
            assertTrue(events.waitFor(60, TimeUnit.SECONDS), "events ended");
            assertEquals(0, events.exitValue());
            String stderr = new String(events.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("faultdisk events: the server dropped (\\d+) events for this client, which"
                            + " fell behind \\(some may have been POWER_FAIL\\)")
                    .matcher(stderr);
            assertTrue(m.find(), stderr);
            // Other sessions (none should lag this little) count in the server's total too.
            long told = Long.parseLong(m.group(1));
            assertTrue(told >= 1 && told <= server.qmp().eventsDropped(), told + " of " + dropped + ": " + stderr);
            String stdout = new String(events.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(stdout.contains(" POWER_FAIL device=disk0"), stdout);
            assertEquals(1, stdout.lines().count(), stdout);
        } finally {
            events.destroyForcibly();
        }
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                .redirectErrorStream(true)
                .start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal);
    }

    @Test
    void rawQmpAndTheExitCodes() throws Exception {
        CommandResult commands = cli("qmp", "query-commands", "--json").assertOk("qmp");
        assertTrue(jsonList(commands.stdout()).contains(Map.of("name", "blkdebug-set-breakpoint")), commands.stdout());

        CommandResult refused = cli("qmp", "blkdebug-clear-rules", "{\"device\": \"nope\"}");
        assertEquals(1, refused.exit());
        assertEquals(
                "faultdisk qmp: blkdebug-clear-rules: DeviceNotFound: Device 'nope' not found (exports: disk0, d1)\n",
                refused.stderr());
        CommandResult typo = cli("qmp", "blkdebug-clear-rule", "{\"device\": \"disk0\"}");
        assertEquals(1, typo.exit());
        assertTrue(typo.stderr().contains("(did you mean blkdebug-clear-rules?)"), typo.stderr());

        CommandResult usage = cli("break", "set", "disk0");
        assertEquals(2, usage.exit());
        assertTrue(usage.stderr().contains("Missing required parameters: 'EVENT', 'TAG'"), usage.stderr());
        assertEquals(2, cli("qmp", "query-block", "{oops").exit());

        int free;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            free = s.getLocalPort();
        }
        CommandResult refusedConnection = FaultdiskCli.run("exports", "--qmp", "127.0.0.1:" + free);
        assertEquals(3, refusedConnection.exit());
        assertTrue(
                refusedConnection.stderr().startsWith("faultdisk exports: cannot connect to 127.0.0.1:" + free),
                refusedConnection.stderr());

        cli("break", "set", "disk0", "flush_to_disk", "idle").assertOk("break set");
        CommandResult timeout = cli("break", "wait", "disk0", "idle", "--timeout", "300ms");
        assertEquals(4, timeout.exit());
        assertTrue(timeout.stderr().contains("no event BLKDEBUG_SUSPENDED within 300 ms"), timeout.stderr());
    }

    @Test
    void waitsForWhatCanNeverHappenFailAtOnceSayingWhatExists() {
        cli("break", "set", "disk0", "flush_to_disk", "fsync").assertOk("break set");
        // Before, each waited out its 60 s timeout; now each fails before waiting.
        long start = System.nanoTime();
        CommandResult wait = cli("break", "wait", "disk0", "nothere", "--timeout", "60s");
        assertEquals(2, wait.exit(), wait.stderr());
        assertEquals(
                "faultdisk break wait: disk0 has no breakpoint 'nothere' (breakpoints: fsync at flush_to_disk;"
                        + " set one with faultdisk break set disk0 EVENT nothere)\n",
                wait.stderr());
        CommandResult none = cli("break", "wait", "d1", "x", "--timeout", "60s");
        assertTrue(none.stderr().contains("d1 has no breakpoint 'x' (it has none;"), none.stderr());

        CommandResult events = cli("events", "--event", "FAULT_INJECTD", "--count", "1", "--timeout", "60s");
        assertEquals(2, events.exit(), events.stderr());
        assertTrue(
                events.stderr()
                        .startsWith("faultdisk events: --event: the server emits no event 'FAULT_INJECTD' (did you mean"
                                + " FAULT_INJECTED? events: BLOCK_IO_ERROR, BLKDEBUG_SUSPENDED,"),
                events.stderr());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 30, "no wait ran out its timeout");
    }

    @Test
    void serveSaysWhichOfItsAddressesIsTaken() {
        String nbd = "127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort();
        CommandResult r = FaultdiskCli.run("serve", "--nbd", nbd, "--qmp", "none");
        assertEquals(1, r.exit(), r.stderr());
        assertEquals(
                "faultdisk serve: cannot listen for NBD on " + nbd + ": Address already in use (--nbd; is another"
                        + " faultdisk running? choose another address with --nbd)\n",
                r.stderr());
        r = FaultdiskCli.run("serve", "--nbd", "127.0.0.1:0", "--qmp", qmp);
        assertEquals(1, r.exit(), r.stderr());
        assertTrue(r.stderr().startsWith("faultdisk serve: cannot listen for QMP on " + qmp), r.stderr());
        assertTrue(r.stderr().endsWith("choose another address with --qmp)\n"), r.stderr());
    }

    @Test
    void serveRefusesAnUnusableSocketPathOrBudgetNamingItsOption(@TempDir Path dir) {
        Path missing = dir.resolve("missing");
        CommandResult r = FaultdiskCli.run("serve", "--nbd", "unix:" + missing.resolve("nbd.sock"), "--qmp", "none");
        assertEquals(1, r.exit(), r.stderr());
        assertEquals(
                "faultdisk serve: cannot listen for NBD on unix:" + missing.resolve("nbd.sock") + ": " + missing
                        + ": no such directory to make the socket nbd.sock in (--nbd)\n",
                r.stderr());
        r = FaultdiskCli.run("serve", "--nbd", "127.0.0.1:0", "--qmp", "none", "--max-in-flight", "0");
        assertEquals(2, r.exit(), r.stderr()); // a bad value: a usage error
        assertEquals("faultdisk serve: --max-in-flight must be at least 1, got 0\n", r.stderr());
    }

    @Test
    void anImageServedByAnotherProcessIsRefusedUntilThatOneLetsGo(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("disk.img");
        String[] options = {"--export", "d=" + image + ",size=1M", "--nbd", "127.0.0.1:0", "--qmp", "none"};
        try (Export elsewhere = Export.open(ExportSpec.parse("d=" + image + ",size=1M"))) {
            CommandResult r = FaultdiskCli.run(java.util.stream.Stream.concat(
                            java.util.stream.Stream.of("serve"), java.util.Arrays.stream(options))
                    .toArray(String[]::new));
            assertEquals(1, r.exit(), r.stderr());
            assertTrue(
                    r.stderr()
                            .contains("image " + image + " is served by another faultdisk process: one image is"
                                    + " served writable by one export only"),
                    r.stderr());
            r = FaultdiskCli.run(
                    "serve", "--export", "d=" + image + ",readonly", "--nbd", "127.0.0.1:0", "--qmp", "none");
            assertEquals(1, r.exit(), r.stderr());
            assertTrue(r.stderr().contains("image " + image + " is written by another faultdisk process"), r.stderr());
            assertEquals(1 << 20, elsewhere.size());
        }
        try (ServeProcess p = ServeProcess.start(options)) {
            assertTrue(p.isAlive(), "served once the other let go");
        }
    }

    @Test
    void aControlCommandPointedAtTheNbdPortSaysSoAtOnce() {
        int nbd = ((InetSocketAddress) server.nbdAddress()).getPort();
        long start = System.nanoTime();
        CommandResult r = FaultdiskCli.run("exports", "--qmp", "127.0.0.1:" + nbd, "--timeout", "60s");
        assertEquals(3, r.exit(), r.stderr());
        assertEquals(
                "faultdisk exports: 127.0.0.1:" + nbd + ": it is an NBD server (it greeted with NBDMAGIC), not a QMP"
                        + " control socket: --qmp (or FAULTDISK_QMP) names the control socket, 127.0.0.1:4444 unless"
                        + " faultdisk serve was given another --qmp\n",
                r.stderr());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 30, "recognised, not timed out");
    }

    @Test
    void aScenarioDrivesFaultsAroundARealClient(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        // The scenario lives elsewhere (as docs/scenarios/ does); the journal goes where the command runs.
        Path file = Files.createDirectories(dir.resolve("scenarios")).resolve("enospc.json");
        Files.writeString(file, """
                {"name": "enospc while a write is held", "device": "disk0", "timeout": "60s", "steps": [
                  {"execute": "blkdebug-set-breakpoint", "arguments": {"device": "disk0", "event": "write_aio", "tag": "w"}},
                  {"on-breakpoint": "w", "execute": "blkdebug-set-rules", "arguments": {"device": "disk0",
                     "rules": [{"type": "inject-error", "event": "write_aio", "errno": 28, "once": true}]}},
                  {"resume": "w"},
                  {"after-writes": 1, "execute": "query-blockstats", "arguments": {"device": "disk0"}}
                ]}""");
        Process run = FaultdiskCli.startIn(dir, "run", file.toString(), "--qmp", qmp);
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(run.getInputStream(), StandardCharsets.UTF_8));
            assertEquals(
                    "faultdisk run: enospc while a write is held, 4 steps against " + qmp + "; journal "
                            + dir.toRealPath().resolve("enospc.json.journal.jsonl"),
                    out.readLine());
            assertTrue(out.readLine().contains("step 1/4: blkdebug-set-breakpoint"), "breakpoint set");
            assertTrue(out.readLine().endsWith("step 2/4: waiting: 0/1 breakpoint-hit w on disk0"), "step 2 armed");
            CommandResult held = qemuIo("write -P 1 0 4k"); // returns once step 3 resumed it
            held.assertOk("the held write");
            CommandResult failed = qemuIo("write -P 1 0 4k");
            assertTrue(failed.stdout().contains("write failed: No space left on device"), failed.stdout());
            // step 4 counts from the resume: this is the write after the first one
            qemuIo("write -P 2 4k 4k").assertOk("the write step 4 acts in");
            assertTrue(run.waitFor(60, TimeUnit.SECONDS));
            String rest = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, run.exitValue(), rest);
            assertTrue(
                    rest.contains("step 2/4 on breakpoint w (disk0 write-fua of 4096 bytes at 0): blkdebug-set-rules"),
                    rest);
            assertTrue(
                    rest.contains("step 4/4 after 1 write on disk0 (inside the next: write of 4096 bytes at 4096): "
                            + "query-blockstats"),
                    rest);
            assertTrue(rest.contains("summary: 4 of 4 steps done, 0 failed, 0 not run"), rest);
        } finally {
            run.destroyForcibly();
        }
        assertFalse(Files.exists(file.resolveSibling("enospc.json.journal.jsonl")), "nothing next to the scenario");
        List<String> journal = Files.readAllLines(dir.resolve("enospc.json.journal.jsonl"));
        assertEquals(6, journal.size(), journal.toString());
        Map<?, ?> last = (Map<?, ?>) ((Map<?, ?>) Json.parse(journal.getLast())).get("summary");
        assertEquals(4L, last.get("done"));

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"steps\": [{\"at\": \"soon\", \"execute\": \"query-block\"}]}");
        CommandResult invalid = FaultdiskCli.run("run", "--check", bad.toString());
        assertEquals(2, invalid.exit());
        assertEquals(
                "faultdisk run: " + bad + ": steps[0].at: bad duration 'soon' (use e.g. 250ms, 5s, 1.5s, 2m, 1h)\n",
                invalid.stderr());
    }

    @Test
    void theCompletionScriptCompletesInBash(@TempDir Path dir) throws Exception {
        Tools.require("bash");
        Path script = dir.resolve("faultdisk.bash");
        Files.writeString(
                script, FaultdiskCli.run("completion").assertOk("completion").stdout());
        Command.run(Duration.ofSeconds(30), "bash", "-n", script.toString()).assertOk("bash -n");
        CommandResult words = Command.run(
                Duration.ofSeconds(30),
                "bash",
                "-c",
                "source " + script
                        + "; COMP_WORDS=(faultdisk br); COMP_CWORD=1; _complete_faultdisk; echo ${COMPREPLY[@]};"
                        + " COMP_WORDS=(faultdisk break re); COMP_CWORD=2; _complete_faultdisk; echo ${COMPREPLY[@]}");
        words.assertOk("completion in bash");
        assertEquals("break\nresume remove\n", words.stdout());
    }

    @Test
    void talksToAServeProcessOverAUnixSocket(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (ServeProcess serve =
                ServeProcess.start("--export", "u0=memory:2M", "--nbd", "127.0.0.1:0", "--qmp", "unix:" + socket)) {
            CommandResult exports =
                    FaultdiskCli.run("exports", "--qmp", "unix:" + socket).assertOk("exports over a Unix socket");
            assertTrue(
                    exports.stdout().lines().skip(1).findFirst().orElseThrow().startsWith("u0 "), exports.stdout());
        }
    }
}
