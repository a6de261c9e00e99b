package dev.faultdisk.server;

import static dev.faultdisk.server.RunningServer.filled;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.client.ResetReport;
import dev.faultdisk.client.SnapshotInfo;
import dev.faultdisk.client.SnapshotRevert;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** snapshot-create, -revert, -delete, query-snapshots and reset over QMP. */
class SnapshotCommandsTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M").export("d1=memory:1M"));

    /** Runs {@code io} on a thread of its own: null when it succeeded, else what it threw. */
    private static CompletableFuture<Throwable> async(Callable io) {
        CompletableFuture<Throwable> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                io.run();
                f.complete(null);
            } catch (Throwable t) {
                f.complete(t);
            }
        });
        return f;
    }

    @FunctionalInterface
    private interface Callable {
        void run() throws Exception;
    }

    @Test
    void createRevertQueryDelete() throws Exception {
        fd.write("d0", 0, filled(4096, 1));
        Map<String, Object> created = fd.executeMap(
                "{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"clean\"}}");
        assertEquals("clean", created.get("name"));
        assertEquals(0L, created.get("bytes-changed-since"));
        fd.write("d0", 0, filled(100, 2));
        fd.write("d0", 8192, filled(4096, 3));

        List<Map<String, Object>> listed = fd.executeList("{\"execute\": \"query-snapshots\"}");
        assertEquals(1, listed.size());
        assertEquals("d0", listed.getFirst().get("device"));
        assertEquals(8192L, listed.getFirst().get("bytes-changed-since"));
        assertEquals(created.get("time"), listed.getFirst().get("time"));

        assertEquals(
                Map.of("name", "clean", "bytes-reverted", 8192L, "cache-bytes-dropped", 0L, "cache-ranges-dropped", 0L),
                fd.execute(
                        "{\"execute\": \"snapshot-revert\", \"arguments\": {\"device\": \"d0\", \"name\": \"clean\"}}"));
        assertArrayEquals(filled(4096, 1), fd.read("d0", 0, 4096));
        assertArrayEquals(new byte[4096], fd.read("d0", 8192, 4096));

        fd.execute("{\"execute\": \"snapshot-delete\", \"arguments\": {\"device\": \"d0\", \"name\": \"clean\"}}");
        assertEquals(List.of(), fd.execute("{\"execute\": \"query-snapshots\", \"arguments\": {\"device\": \"d0\"}}"));
    }

    @Test
    void theJavaClientSpeaksSnapshotsAndReset() throws Exception {
        FaultdiskClient c = fd.client;
        fd.write("d0", 0, filled(4096, 1));
        SnapshotInfo taken = c.snapshotCreate("d0", "golden");
        assertEquals("d0", taken.device());
        assertEquals("golden", taken.name());
        fd.write("d0", 0, filled(4096, 2));
        assertEquals(List.of(new SnapshotInfo("d0", "golden", taken.time(), 4096)), c.querySnapshots(null));
        assertEquals(new SnapshotRevert("golden", 4096, 0, 0), c.snapshotRevert("d0", "golden"));
        assertArrayEquals(filled(4096, 1), fd.read("d0", 0, 4096));

        fd.write("d0", 0, filled(4096, 3));
        ResetReport reset = c.reset("d0", false, "golden");
        assertEquals(0, reset.triggers());
        assertEquals(
                new SnapshotRevert("golden", 4096, 0, 0),
                reset.exports().getFirst().reverted());
        assertArrayEquals(filled(4096, 1), fd.read("d0", 0, 4096));
        assertEquals(
                List.of("d0", "d1"),
                c.reset(null).exports().stream().map(ResetReport.Export::device).toList());

        c.snapshotDelete("d0", "golden");
        assertEquals(List.of(), c.querySnapshots("d0"));
        QmpException unknown = assertThrows(QmpException.class, () -> c.snapshotRevert("d0", "golden"));
        assertEquals("export 'd0' has no snapshot 'golden' (it has none)", unknown.desc());
    }

    @Test
    void badInputIsAClearErrorAndChangesNothing() throws Exception {
        fd.execute("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"a\"}}");
        fd.write("d0", 0, filled(4096, 5));
        assertEquals(
                "DeviceNotFound: Device 'nope' not found (exports: d0, d1)",
                fd.error("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"nope\", \"name\": \"a\"}}"));
        assertEquals(
                "GenericError: export 'd0' has a snapshot 'a' already",
                fd.error("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"a\"}}"));
        assertEquals(
                "GenericError: export 'd0' has no snapshot 'b' (it has: a)",
                fd.error("{\"execute\": \"snapshot-revert\", \"arguments\": {\"device\": \"d0\", \"name\": \"b\"}}"));
        assertEquals(
                "GenericError: export 'd0' has no snapshot 'b' (it has: a)",
                fd.error("{\"execute\": \"snapshot-delete\", \"arguments\": {\"device\": \"d0\", \"name\": \"b\"}}"));
        assertEquals(
                "GenericError: export 'd1' has no snapshot 'a'",
                fd.error("{\"execute\": \"reset\", \"arguments\": {\"snapshot\": \"a\"}}"),
                "every export reset must have the snapshot; d0 was not reset either");
        for (int i = 1; i < 64; i++) {
            fd.execute("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"s" + i
                    + "\"}}");
        }
        assertEquals(
                "GenericError: export 'd0' holds 64 snapshots, the most it may",
                fd.error("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"z\"}}"));
        assertEquals(64, fd.export("d0").snapshots().size());
        assertArrayEquals(filled(4096, 5), fd.read("d0", 0, 4096));
    }

    /**
     * A reset while requests are held by a rule and by a trigger, delayed, and suspended at a
     * breakpoint: every request is answered (the ones from before fail with ESHUTDOWN), nothing
     * from before lands after it, and the data is the snapshot's.
     */
    @Test
    void resetWhileRequestsAreHeldDelayedAndInFlight() throws Exception {
        Export d0 = fd.export("d0");
        fd.write("d0", 0, filled(4096, 1));
        fd.execute("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"clean\"}}");
        fd.execute("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "hang", "ops": ["write"], "offset": 0, "length": 4096},
                  {"type": "delay", "ops": ["write"], "offset": 4096, "length": 4096, "ms": 600000}]}}""");
        fd.execute("""
                {"execute": "trigger-add", "arguments": {"triggers": [
                  {"when": {"device": "d0", "ops": ["read"], "nth": 1}, "actions": [{"action": "hold"}]}]}}""");
        fd.execute("{\"execute\": \"trigger-add\", \"arguments\": {\"triggers\": [{\"when\": {\"device\": \"d1\", "
                + "\"ops\": [\"read\"], \"nth\": 1}, \"actions\": [{\"action\": \"hold\"}]}]}}");
        fd.execute("{\"execute\": \"blkdebug-set-breakpoint\", \"arguments\": {\"device\": \"d0\", "
                + "\"event\": \"write_aio\", \"tag\": \"b\"}}");
        fd.execute("{\"execute\": \"write-cache-arm-flush-error\", \"arguments\": {\"device\": \"d0\"}}");

        CompletableFuture<Throwable> held = async(() -> fd.write("d0", 0, filled(4096, 7)));
        CompletableFuture<Throwable> delayed = async(() -> fd.write("d0", 4096, filled(4096, 7)));
        CompletableFuture<Throwable> suspended = async(() -> fd.write("d0", 8192, filled(4096, 7)));
        CompletableFuture<Throwable> heldRead = async(() -> fd.read("d0", 0, 512));
        await().atMost(RunningServer.WAIT)
                .until(() -> d0.faults().held().size() == 2
                        && d0.blkdebug().isSuspended("b")
                        && d0.faults().rules().get(1).fired() == 1);

        Map<String, Object> reply =
                fd.executeMap("{\"execute\": \"reset\", \"arguments\": {\"device\": \"d0\", \"snapshot\": \"clean\"}}");
        assertEquals(1L, reply.get("triggers"), "only the trigger naming d0");
        @SuppressWarnings("unchecked")
        Map<String, Object> r = ((List<Map<String, Object>>) reply.get("exports")).getFirst();
        assertEquals("d0", r.get("device"));
        assertEquals(2L, r.get("fault-rules"));
        assertEquals(2L, r.get("held-failed"));
        assertEquals(0L, r.get("held-released"));
        assertEquals(0L, r.get("breakpoints"), "it fired");
        assertEquals(1L, r.get("suspended-resumed"));
        assertEquals(true, r.get("flush-error-disarmed"));

        for (CompletableFuture<Throwable> f : List.of(held, delayed, suspended, heldRead)) {
            Throwable t = f.get(RunningServer.WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(
                    Errno.ESHUTDOWN, assertInstanceOf(DeviceException.class, t).errno(), String.valueOf(t));
        }
        assertArrayEquals(filled(4096, 1), fd.read("d0", 0, 4096));
        assertArrayEquals(new byte[8192], fd.read("d0", 4096, 8192), "nothing from before the reset landed");
        assertEquals(List.of(), d0.faults().rules());
        assertEquals(List.of(), d0.blkdebug().breakpoints());
        assertEquals(1, fd.server.triggers().size(), "d1's trigger stays");
        assertTrue(!d0.writeCache().status().deferredErrorArmed());
        fd.export("d0").device().flush(BlockRequest.flush()); // no armed error left
    }

    /**
     * Writers keep writing their own block, each write delayed, while a reset reverts the data:
     * every write is answered (done or ESHUTDOWN), and each block ends holding the snapshot's
     * data or a value written by a write issued after the reset began, never an older one.
     */
    @Test
    void writesInFlightAcrossAResetNeverLandAfterIt() throws Exception {
        fd.execute("{\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"d0\", \"name\": \"clean\"}}");
        fd.execute("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "delay", "ops": ["write"], "ms": 20}]}}""");
        int writers = 8;
        AtomicBoolean resetBegun = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Set<Integer>> afterReset = new ArrayList<>();
        List<CompletableFuture<Throwable>> loops = new ArrayList<>();
        AtomicInteger answered = new AtomicInteger();
        for (int w = 0; w < writers; w++) {
            int block = w;
            Set<Integer> mine = ConcurrentHashMap.newKeySet();
            afterReset.add(mine);
            loops.add(async(() -> {
                for (int v = 1; !stop.get(); v++) {
                    if (resetBegun.get()) {
                        mine.add(v);
                    }
                    try {
                        fd.write(
                                "d0",
                                block * 4096L,
                                ByteBuffer.allocate(4096).putInt(0, v).array());
                    } catch (DeviceException e) {
                        assertEquals(Errno.ESHUTDOWN, e.errno(), e.getMessage());
                    }
                    answered.incrementAndGet();
                }
            }));
        }
        await().atMost(RunningServer.WAIT).until(() -> answered.get() >= 2 * writers);
        resetBegun.set(true);
        fd.execute("{\"execute\": \"reset\", \"arguments\": {\"device\": \"d0\", \"snapshot\": \"clean\"}}");
        int atReset = answered.get();
        await().atMost(RunningServer.WAIT).until(() -> answered.get() >= atReset + 3 * writers);
        stop.set(true);
        for (CompletableFuture<Throwable> loop : loops) {
            assertNull(loop.get(RunningServer.WAIT.toSeconds(), TimeUnit.SECONDS), "every write was answered");
        }
        for (int w = 0; w < writers; w++) {
            int value = ByteBuffer.wrap(fd.read("d0", w * 4096L, 4096)).getInt(0);
            assertTrue(
                    value == 0 || afterReset.get(w).contains(value),
                    "block " + w + " holds " + value + ", written before the reset");
        }
    }

    @Test
    void resetWithReleaseRunsHeldRequestsBeforeItAndZeroesCounters() throws Exception {
        Export d0 = fd.export("d0");
        fd.execute("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "hang", "ops": ["write"], "offset": 0, "length": 4096}]}}""");
        CompletableFuture<Throwable> held = async(() -> fd.write("d0", 0, filled(4096, 7)));
        await().atMost(RunningServer.WAIT).until(() -> d0.faults().held().size() == 1);

        Map<String, Object> reply = fd.executeMap("{\"execute\": \"reset\", \"arguments\": {\"held\": \"release\"}}");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> exports = (List<Map<String, Object>>) reply.get("exports");
        assertEquals(
                List.of("d0", "d1"), exports.stream().map(m -> m.get("device")).toList());
        assertEquals(1L, exports.getFirst().get("held-released"));
        assertNull(held.get(RunningServer.WAIT.toSeconds(), TimeUnit.SECONDS), "released: it ran");
        assertArrayEquals(filled(4096, 7), fd.read("d0", 0, 4096), "it landed before the reset answered");
        assertEquals(1, d0.stats().ops(BlockOp.READ), "counters were zeroed; this read counts");
    }
}
