package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The silent disk: held requests, listed, released in an order, failed, expired; others unaffected. */
class HangTest {
    private static final long WAIT_MS = 10_000;

    private static CompletableFuture<Void> async(ThrowingRunnable r) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                r.run();
                f.complete(null);
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static void awaitHeld(Disk disk, int n) {
        org.awaitility.Awaitility.await(n + " held requests")
                .atMost(java.time.Duration.ofMillis(WAIT_MS))
                .pollInterval(java.time.Duration.ofMillis(2))
                .until(() -> disk.faults().held().size() >= n);
    }

    @Test
    void requestsPastTheHoldBudgetFailWithEnomemInsteadOfBeingHeld() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.faults().limits(100, 2, 1 << 20);
            disk.add(rule("type", "hang", "ops", "write"));
            CompletableFuture<Void> first = async(() -> disk.write(0, Disk.filled(4096, 1)));
            CompletableFuture<Void> second = async(() -> disk.write(4096, Disk.filled(4096, 2)));
            awaitHeld(disk, 2);
            DeviceException third = assertThrows(DeviceException.class, () -> disk.write(8192, Disk.filled(4096, 3)));
            assertEquals(Errno.ENOMEM, third.errno());
            assertEquals(2, disk.faults().held().size());
            disk.faults().release(null, FaultEngine.Order.FIFO, 0, 0);
            first.get(WAIT_MS, TimeUnit.MILLISECONDS);
            second.get(WAIT_MS, TimeUnit.MILLISECONDS);
            // The budget is free again.
            CompletableFuture<Void> fourth = async(() -> disk.write(8192, Disk.filled(4096, 4)));
            awaitHeld(disk, 1);
            disk.faults().release(null, FaultEngine.Order.FIFO, 0, 0);
            fourth.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void aHeldRequestWaitsForReleaseWhileOthersRun() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "hang", "ops", "write", "offset", 0, "length", 4096));
            CompletableFuture<Void> held = async(() -> disk.write(0, Disk.filled(4096, 9)));
            awaitHeld(disk, 1);
            HeldRequest h = disk.faults().held().getFirst();
            assertEquals(
                    BlockRequest.of(BlockOp.WRITE, 0, 4096).withEpoch(0), h.request(), "stamped by the power gate");
            assertEquals(1L, h.rule());
            // Requests the rule does not hold run meanwhile.
            disk.write(8192, Disk.filled(512, 1));
            assertArrayEquals(new byte[4096], disk.read(0, 4096));
            assertFalse(held.isDone());
            assertEquals(List.of(h), disk.faults().release(null, FaultEngine.Order.FIFO, 0, 0));
            held.get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertArrayEquals(Disk.filled(4096, 9), disk.read(0, 4096));
            assertEquals(List.of(), disk.faults().held());
            List<Object> events = disk.journal.entries(0, 100, null).stream()
                    .map(e -> e.get("event"))
                    .toList();
            assertEquals(List.of("rules-added", "fault", "held-released"), events);
        }
    }

    /** Three writes of 1, 2, 3 to one place, held in that order, released in {@code order}: the last released wins. */
    private static byte lastWriterAfterRelease(FaultEngine.Order order, List<Long> ids) throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "hang", "ops", "write"));
            CompletableFuture<?>[] writes = new CompletableFuture<?>[3];
            for (int i = 0; i < 3; i++) {
                byte value = (byte) (i + 1);
                writes[i] = async(() -> disk.write(0, Disk.filled(512, value)));
                awaitHeld(disk, i + 1);
            }
            assertEquals(3, disk.faults().release(ids, order, 0, 5).size());
            CompletableFuture.allOf(writes).get(WAIT_MS, TimeUnit.MILLISECONDS);
            disk.faults().clear();
            return disk.read(0, 1)[0];
        }
    }

    @Test
    void releaseOrderDecidesWhichWriteLandsLast() throws Exception {
        assertEquals(3, lastWriterAfterRelease(FaultEngine.Order.FIFO, null));
        assertEquals(1, lastWriterAfterRelease(FaultEngine.Order.LIFO, null));
        assertEquals(2, lastWriterAfterRelease(FaultEngine.Order.GIVEN, List.of(3L, 1L, 2L)));
    }

    @Test
    void heldRequestsFailWithAnErrnoOrExpire() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(
                    rule("type", "hang", "ops", "read", "timeout-ms", 100),
                    rule("type", "hang", "ops", "write", "timeout-ms", 100, "on-timeout", "continue"));
            CompletableFuture<Void> read = async(() -> disk.read(0, 512));
            awaitHeld(disk, 1);
            CompletableFuture<Void> write = async(() -> disk.write(0, Disk.filled(512, 5)));
            awaitHeld(disk, 2);
            disk.time.advance(Duration.ofMillis(99));
            Thread.sleep(20);
            assertFalse(read.isDone() || write.isDone(), "not yet expired");
            disk.time.advance(Duration.ofMillis(1));
            ExecutionException e =
                    assertThrows(ExecutionException.class, () -> read.get(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(
                    Errno.EIO,
                    assertInstanceOf(DeviceException.class, e.getCause()).errno());
            write.get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertEquals(
                    2,
                    disk.journal.entries(0, 100, null).stream()
                            .filter(x -> "held-expired".equals(x.get("event")))
                            .count());

            CompletableFuture<Void> failed = async(() -> disk.write(4096, Disk.filled(512, 6)));
            awaitHeld(disk, 1);
            disk.faults()
                    .release(List.of(disk.faults().held().getFirst().id()), FaultEngine.Order.GIVEN, Errno.ENOSPC, 0);
            e = assertThrows(ExecutionException.class, () -> failed.get(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(
                    Errno.ENOSPC,
                    assertInstanceOf(DeviceException.class, e.getCause()).errno());
            disk.faults().clear();
            assertArrayEquals(Disk.filled(512, 5), disk.read(0, 512), "expired with continue: written");
            assertArrayEquals(new byte[512], disk.read(4096, 512), "failed: not written");
        }
    }

    @Test
    void removingTheRuleReleasesAndClosingFails() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            List<Long> ids = disk.add(rule("type", "hang", "ops", "read"));
            CompletableFuture<Void> a = async(() -> disk.read(0, 512));
            awaitHeld(disk, 1);
            disk.faults().remove(ids);
            a.get(WAIT_MS, TimeUnit.MILLISECONDS);

            disk.add(rule("type", "hang", "ops", "read"));
            CompletableFuture<Void> b = async(() -> disk.read(0, 512));
            awaitHeld(disk, 1);
            disk.faults().shutdown();
            ExecutionException e = assertThrows(ExecutionException.class, () -> b.get(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(
                    Errno.ESHUTDOWN,
                    assertInstanceOf(DeviceException.class, e.getCause()).errno());
        }
    }

    @Test
    void unknownIdsReleaseNothing() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "hang"));
            CompletableFuture<Void> a = async(() -> disk.read(0, 512));
            awaitHeld(disk, 1);
            long id = disk.faults().held().getFirst().id();
            assertThrows(
                    IllegalArgumentException.class,
                    () -> disk.faults().release(List.of(id, 99L), FaultEngine.Order.FIFO, 0, 0));
            assertEquals(1, disk.faults().held().size());
            disk.faults().release(null, FaultEngine.Order.RANDOM, 0, 3);
            a.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void aRequestRunningInlineIsNeverHeld() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "hang"), rule("type", "delay", "ms", 1000));
            disk.read(0, 512, 1, true); // dispatched before the rules could block: it ignores them
            assertEquals(List.of(), disk.faults().held());
            assertEquals(Duration.ZERO, disk.time.elapsed());
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
