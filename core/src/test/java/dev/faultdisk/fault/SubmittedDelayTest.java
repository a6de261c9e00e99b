package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Requests submitted to the stack ({@link BlockDevice#submit}) wait out their delays and throttles
 * as entries of the clock's timer: no thread sleeps for them, and the rest of each request runs
 * when the timer fires. On virtual time, except the last test, which uses the system timer.
 */
class SubmittedDelayTest {

    /** A request as a frontend submits it: from connection 7, where blocking would stall the connection. */
    private static BlockRequest submitted(BlockOp op, long offset, long length) {
        return BlockRequest.of(op, offset, length, 0, 7, true);
    }

    private static Outcome submitRead(BlockDevice d, long offset, int length) {
        Outcome o = new Outcome(length);
        d.submit(submitted(BlockOp.READ, offset, length), o.data, null, o);
        return o;
    }

    private static long finished(List<Outcome> outcomes) {
        return outcomes.stream().filter(Outcome::finished).count();
    }

    @Test
    void delayedRequestsWaitAsTimerEntriesAndNoThreadSleeps() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            for (int i = 0; i < 64; i++) {
                disk.write(4096L * i, Disk.filled(4096, i + 1));
            }
            disk.add(rule("type", "delay", "ms", 5, "ops", "read"));
            BlockDevice d = disk.device();
            assertTrue(d.mayBlock());
            assertTrue(d.timedWaitsOnly(), "a delay rule is a timed wait only");

            List<Outcome> reads = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                reads.add(submitRead(d, 4096L * (i % 64), 4096)); // returns at once: nothing waits on this thread
            }
            assertEquals(0, finished(reads));
            assertEquals(500, disk.time.scheduled(), "each delay is an entry of the timer");
            assertEquals(0, disk.time.sleepers(), "no thread sleeps on the clock");

            disk.time.advance(Duration.ofMillis(4));
            assertEquals(0, finished(reads), "never shorter than the delay");
            disk.time.advance(Duration.ofMillis(1));
            assertEquals(500, finished(reads));
            for (int i = 0; i < reads.size(); i++) {
                Outcome o = reads.get(i);
                assertNull(o.failure);
                assertArrayEquals(Disk.filled(4096, i % 64 + 1), o.data.array(), "read " + i);
                assertEquals(4096, o.data.position(), "the buffer is consumed, as by a read that returned");
            }
            assertEquals(0, disk.time.scheduled());
            assertEquals(500, disk.export.stats().ops(BlockOp.READ), "counted once each, when they finished");
            assertEquals(500, disk.faultEntries().size());
            assertEquals("delayed 5.000 ms", disk.faultEntries().getFirst().get("action"));
        }
    }

    @Test
    void onlyTimedWaitsAreServedOnTheTimer() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            BlockDevice d = disk.device();
            assertTrue(d.timedWaitsOnly());
            List<Long> hang = disk.add(rule("type", "hang", "ops", "write"));
            assertTrue(d.mayBlock());
            assertFalse(d.timedWaitsOnly(), "a hang waits for its release: requests need threads of their own");
            disk.faults().remove(hang);
            disk.add(rule("type", "throttle", "ops-per-second", 100, "burst-ops", 1));
            assertTrue(d.timedWaitsOnly());
            disk.export.blkdebug().setBreakpoint(dev.faultdisk.fault.blkdebug.BlkdebugEvent.READ_AIO, "tag");
            assertFalse(d.timedWaitsOnly(), "a breakpoint below holds the request's thread");
        }
    }

    @Test
    void laterRulesActOnceTheDelayIsOver() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "delay", "ms", 10, "ops", "read"), rule("type", "error", "errno", "ENOSPC"));
            Outcome o = submitRead(disk.device(), 0, 512);
            assertEquals(1, disk.faultEntries().size(), "only the delay has acted");
            disk.time.advance(Duration.ofMillis(10));
            assertTrue(o.finished());
            DeviceException e = assertInstanceOf(DeviceException.class, o.failure);
            assertEquals(dev.faultdisk.wire.Errno.ENOSPC, e.errno());
            assertEquals(1, disk.export.stats().errors(BlockOp.READ));
        }
    }

    @Test
    void throttledRequestsWaitOnTheTimer() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "throttle", "ops-per-second", 100, "burst-ops", 1));
            List<Outcome> reads = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                reads.add(submitRead(disk.device(), 0, 512));
            }
            assertEquals(0, disk.time.sleepers());
            assertTrue(disk.time.scheduled() >= 4, "throttled requests wait as timer entries");
            disk.time.advance(Duration.ofMillis(100));
            assertEquals(5, finished(reads));
            assertTrue(disk.faultEntries().stream().allMatch(e -> ((String) e.get("action")).startsWith("throttled")));
        }
    }

    @Test
    void aResetCutsTimedWaitsShort() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "delay", "ms", 3_600_000));
            List<Outcome> reads = List.of(submitRead(disk.device(), 0, 512), submitRead(disk.device(), 512, 512));
            assertEquals(0, finished(reads));
            disk.faults().cutShortWaits();
            assertEquals(2, finished(reads), "woken without the clock moving");
            assertEquals(0, disk.time.scheduled());
        }
    }

    @Test
    void aWriteDelayedAcrossAPowerCutNeverLands() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "delay", "ms", 10, "ops", "write"));
            Outcome w = new Outcome(0);
            disk.device().submit(submitted(BlockOp.WRITE, 0, 4096), ByteBuffer.wrap(Disk.filled(4096, 0xAB)), null, w);
            disk.export.powerFail(PowerFailMode.DROP_ALL, 1);
            disk.time.advance(Duration.ofMillis(10));
            assertTrue(w.finished());
            assertInstanceOf(DeviceException.class, w.failure, "refused below: it entered before the cut");
            assertArrayEquals(new byte[4096], disk.stored(0, 4096));
        }
    }

    @Test
    void theRestResumesWhereTheCompletionPutsIt() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "delay", "ms", 1, "ops", "read"));
            List<Runnable> resumed = new ArrayList<>();
            Outcome o = new Outcome(512) {
                @Override
                public void resume(Runnable rest) {
                    resumed.add(rest); // a frontend hands it to its connection's thread
                }
            };
            disk.device().submit(submitted(BlockOp.READ, 0, 512), o.data, null, o);
            disk.time.advance(Duration.ofMillis(1));
            assertEquals(1, resumed.size());
            assertFalse(o.finished(), "the timer only hands the rest over");
            resumed.getFirst().run();
            assertTrue(o.finished());
            assertNull(o.failure);
        }
    }

    @Test
    void onTheSystemClockAThousandDelayedRequestsHoldNoThreadEach() throws Exception {
        try (Export export = new Export(
                "sys",
                new MemoryDevice(1 << 20),
                false,
                new BlkdebugEngine(),
                CacheMode.WRITETHROUGH,
                FaultTime.system(),
                1)) {
            export.faults().add(List.of(rule("type", "delay", "ms", 300, "ops", "read")), "rules");
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            List<Outcome> reads = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                reads.add(submitRead(export.device(), 512L * i, 512));
            }
            int threadsWaiting = ManagementFactory.getThreadMXBean().getThreadCount();
            long pending = DelayTimer.shared().pending();
            boolean allDone = true;
            for (Outcome o : reads) {
                allDone &= o.done.await(30, TimeUnit.SECONDS);
            }
            long tookNanos = System.nanoTime() - start;
            assertTrue(allDone);
            assertTrue(tookNanos >= TimeUnit.MILLISECONDS.toNanos(300), "a delay is never shorter than asked");
            assertTrue(
                    threadsWaiting <= threadsBefore + 1,
                    "1,000 delayed requests: " + threadsBefore + " threads before, " + threadsWaiting
                            + " while they waited (the timer's at most)");
            assertTrue(pending > 0 && pending <= 1000, "waiting as timer entries: " + pending);
            Set<String> threads = ConcurrentHashMap.newKeySet();
            reads.forEach(o -> threads.add(o.thread));
            assertEquals(Set.of("faultdisk-delay-timer"), threads, "each finished on the timer's thread");
            assertTrue(reads.stream().allMatch(o -> o.failure == null));
        }
    }
}
