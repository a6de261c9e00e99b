package dev.faultdisk.interop;

import static dev.faultdisk.client.FaultdiskClient.args;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.HeldRequest;
import dev.faultdisk.client.Trigger;
import dev.faultdisk.client.TriggerAction;
import dev.faultdisk.client.TriggerCondition;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * Triggers act inside the exact request that fires them, with qemu-io writing as fast as it can:
 * the 21st of 200 asynchronous writes is held and no other; disk A's 50th write cuts disk B's
 * power before A's 51st.
 */
class TriggerQemuIoTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int BLOCK = 4096;

    /** qemu-io commands: {@code count} 4 KiB writes at offsets 0, 4096, ..., then a flush. */
    private static String[] writes(String command, int count, String flush) {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            commands.add(command + " -P " + (1 + i % 250) + " " + (long) i * BLOCK + " 4k");
        }
        commands.add(flush);
        return commands.toArray(new String[0]);
    }

    private static Map<String, Object> observation(Event fired) {
        @SuppressWarnings("unchecked")
        Map<String, Object> at = (Map<String, Object>) fired.data().get("observation");
        return at;
    }

    /**
     * 200 writes as fast as qemu-io sends them, one after another: the 21st, at 20 x 4096, is held
     * and no other, and the flush error armed in the same moment fails the flush at the end.
     */
    @RepeatedTest(20)
    @Faultdisk(exports = "d=memory:16M")
    void afterTwentyWritesTheTwentyFirstIsHeldAndAFlushErrorArmed(FaultdiskClient fd, @ExportUri("d") String uri)
            throws Exception {
        Tools.require("qemu-io");
        List<Long> ids = fd.triggerAdd(Trigger.when(
                        TriggerCondition.requests("d", BlockOp.WRITE).after(20))
                .then(TriggerAction.hold(), TriggerAction.execute("write-cache-arm-flush-error", args("device", "d"))));
        // writeback: the writes carry no FUA, so the final flush is an NBD FLUSH of its own.
        CompletableFuture<CommandResult> io =
                QemuIo.start(List.of("-t", "writeback"), uri, writes("write", 200, "flush"));

        Event fired = fd.awaitEvent("TRIGGER_FIRED", WAIT);
        assertEquals(20L * BLOCK, observation(fired).get("offset"), "the trigger fired at the 21st write");
        // TRIGGER_FIRED comes as the request actions begin: the hold follows at once.
        await("the write held")
                .atMost(WAIT)
                .until(() -> !fd.queryHeldRequests("d").isEmpty());
        List<HeldRequest> held = fd.queryHeldRequests("d");
        assertEquals(1, held.size(), "exactly one request held: " + held);
        assertEquals(20L * BLOCK, held.getFirst().offset());
        assertEquals("write", held.getFirst().operation());
        assertEquals(ids.getFirst(), held.getFirst().trigger());
        assertEquals(20, fd.queryBlockstats("d").op("write").operations(), "20 writes done, the 21st held");
        assertTrue(fd.queryWriteCache("d").deferredErrorArmed(), "the flush error is armed");

        fd.faultRelease("d");
        CommandResult r = io.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        long wrote = QemuIo.reports(r.stdout()).stream()
                .filter(l -> l.startsWith("wrote 4096/4096"))
                .count();
        assertEquals(200, wrote, "every write completed once released:\n" + r.stdout() + r.stderr());
        // qemu-io's flush command prints nothing when it fails; its exit status says so.
        assertEquals(1, r.exit(), "the armed flush error failed qemu-io's flush:\n" + r.stderr());
        assertEquals(1, fd.queryBlockstats("d").op("flush").errors(), "one flush failed, the one after the writes");
        assertEquals(1L, fd.queryWriteCache("d").raw().get("deferred-errors"));
        assertEquals(1, fd.queryTriggers().getFirst().fired());
    }

    /**
     * The same with all 200 writes in flight at once (qemu-io's aio_write; QEMU's NBD client then
     * sends them in an order of its own): one is held, the 21st the server took in, and the 199
     * others complete meanwhile.
     */
    @Test
    @Faultdisk(exports = "d=memory:16M")
    void withTwoHundredWritesInFlightOnlyTheTwentyFirstToArriveIsHeld(FaultdiskClient fd, @ExportUri("d") String uri)
            throws Exception {
        Tools.require("qemu-io");
        fd.triggerAdd(Trigger.when(TriggerCondition.requests("d", BlockOp.WRITE).after(20))
                .then(TriggerAction.hold()));
        CompletableFuture<CommandResult> io = QemuIo.start(uri, writes("aio_write", 200, "aio_flush"));
        Event fired = fd.awaitEvent("TRIGGER_FIRED", WAIT);
        try {
            await("the 199 other writes done")
                    .atMost(WAIT)
                    .until(() -> fd.queryBlockstats("d").op("write").operations() >= 199);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Say where it stood, so a failure under load can be told from a stall.
            throw new AssertionError(
                    "writes done: " + fd.queryBlockstats("d").op("write") + "; held: " + fd.queryHeldRequests("d")
                            + "; fired: " + fired.data(),
                    e);
        }
        await("the write held")
                .atMost(WAIT)
                .until(() -> !fd.queryHeldRequests("d").isEmpty());
        List<HeldRequest> held = fd.queryHeldRequests("d");
        assertEquals(1, held.size(), "exactly one request held: " + held);
        assertEquals(observation(fired).get("offset"), held.getFirst().offset());
        fd.faultRelease("d");
        CommandResult r = io.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(
                200,
                QemuIo.reports(r.stdout()).stream()
                        .filter(l -> l.startsWith("wrote 4096/4096"))
                        .count());
    }

    @Test
    @Faultdisk(exports = {"a=memory:16M", "b=memory:16M,cache=writeback"})
    void theFiftiethWriteToOneDiskCutsTheOthersPowerBeforeTheFiftyFirst(
            FaultdiskClient fd, @ExportUri("a") String a, @ExportUri("b") String b) throws Exception {
        Tools.require("qemu-io");
        fd.triggerAdd(Trigger.when(TriggerCondition.requests("a", BlockOp.WRITE).nth(50))
                .then(
                        TriggerAction.execute("query-blockstats", Map.of()),
                        TriggerAction.execute("power-fail", args("device", "b", "mode", "drop-all", "seed", 7))));
        // B's client writes 64 KiB it never flushes, and stays connected.
        CompletableFuture<CommandResult> onB =
                QemuIo.start(List.of("-t", "writeback"), b, "write -P 0xbb 0 64k", "sleep 20000");
        await("B's write is cached")
                .atMost(WAIT)
                .until(() -> fd.queryWriteCache("b").dirtyBytes() == 65536);

        List<String> writes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            writes.add("write -P 0xaa " + (long) i * BLOCK + " 4k");
        }
        QemuIo.run(a, writes.toArray(new String[0])).assertOk("100 writes to A");

        Event fired = fd.awaitEvent("TRIGGER_FIRED", WAIT);
        @SuppressWarnings("unchecked")
        Map<String, Object> at = (Map<String, Object>) fired.data().get("observation");
        assertEquals(49L * BLOCK, at.get("offset"), "A's 50th write fired it");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> actions =
                (List<Map<String, Object>>) fired.data().get("actions");
        assertEquals(
                49L,
                writesOf(actions.get(0), "a"),
                "when the trigger ran, A had completed 49 writes: the 50th was the one in progress");
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) actions.get(1).get("return");
        assertEquals(1L, report.get("dirty-writes"), "B lost its unflushed write: " + report);
        assertEquals(65536L, report.get("bytes-lost"));

        Event cut = fd.awaitEvent("POWER_FAIL", WAIT);
        assertEquals("b", cut.device());
        // The journal has the firing, with A's 50th write, once.
        List<Map<String, Object>> firings = fd.queryFaultJournal(null, 0, 1000).entries().stream()
                .filter(e -> "trigger-fired".equals(e.get("event")))
                .toList();
        assertEquals(1, firings.size(), "one firing in the journal: " + firings);
        assertEquals(1L, firings.getFirst().get("count"));
        assertEquals(100L, fd.queryBlockstats("a").op("write").operations());
        onB.cancel(true);
    }

    /** The write count of {@code device} in a query-blockstats return value. */
    @SuppressWarnings("unchecked")
    private static long writesOf(Map<String, Object> result, String device) {
        for (Map<String, Object> entry : (List<Map<String, Object>>) result.get("return")) {
            if (device.equals(entry.get("device"))) {
                Map<String, Object> stats = (Map<String, Object>) entry.get("stats");
                return (Long) ((Map<String, Object>) stats.get("write")).get("operations");
            }
        }
        throw new AssertionError("no stats for " + device + " in " + result);
    }
}
