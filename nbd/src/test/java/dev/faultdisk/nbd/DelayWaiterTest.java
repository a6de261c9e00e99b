package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.TimedWaiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A connection's delay thread, on real time: rests run on it in deadline order and never before
 * their deadline, a batch's replies are sent a few at a time, a reset lets them go at once, the thread
 * ends when idle, and past the budget the caller is told to use the shared timer.
 */
class DelayWaiterTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void restsRunOnTheConnectionsThreadInDeadlineOrderAndNotBefore() throws Exception {
        AtomicInteger batches = new AtomicInteger();
        List<String> ran = new CopyOnWriteArrayList<>();
        ConcurrentHashMap<String, Long> lateness = new ConcurrentHashMap<>();
        Semaphore budget = new Semaphore(1);
        DelayWaiter waiter = new DelayWaiter("nbd-delays-test", batches::incrementAndGet, budget);
        long start = System.nanoTime();
        long[] at = {start + ms(60), start + ms(20), start + ms(40)};
        for (int i = 0; i < at.length; i++) {
            String id = "r" + i;
            long deadline = at[i];
            assertTrue(waiter.schedule(deadline, new CountDownLatch(1), () -> {
                lateness.put(id, System.nanoTime() - deadline);
                ran.add(id + "@" + Thread.currentThread().getName());
            }));
        }
        assertEquals(0, budget.availablePermits(), "one thread runs, from the budget");
        await().atMost(WAIT).until(() -> ran.size() == 3);
        assertEquals(List.of("r1@nbd-delays-test", "r2@nbd-delays-test", "r0@nbd-delays-test"), ran);
        lateness.forEach((id, late) -> assertTrue(late >= 0, id + " ran " + -late + " ns early"));
        assertTrue(batches.get() >= 1 && batches.get() <= 3, "a send after each batch: " + batches.get());
        // Idle: the thread ends and gives its place back.
        await().atMost(WAIT).until(() -> budget.availablePermits() == 1);
        assertFalse(threadNamed("nbd-delays-test"), "the thread ended");
    }

    @Test
    void aLargeBatchSendsItsFirstRepliesBeforeTheRestAreBuilt() throws Exception {
        AtomicInteger sends = new AtomicInteger();
        List<Integer> sendsSeen = new CopyOnWriteArrayList<>();
        DelayWaiter waiter = new DelayWaiter("nbd-delays-batch", sends::incrementAndGet, new Semaphore(1));
        int n = 2 * DelayWaiter.SEND_EVERY + 3;
        long deadline = System.nanoTime() + ms(500); // one deadline, well after the last is queued: one batch
        for (int i = 0; i < n; i++) {
            assertTrue(waiter.schedule(deadline, new CountDownLatch(1), () -> sendsSeen.add(sends.get())));
        }
        await().atMost(WAIT).until(() -> sendsSeen.size() == n);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.add(i / DelayWaiter.SEND_EVERY);
        }
        assertEquals(expected, sendsSeen, "each rest, with the sends made before it ran");
        await().atMost(WAIT).until(() -> sends.get() == 3); // and one for the last 3
        assertEquals(3, sends.get(), "a send after every " + DelayWaiter.SEND_EVERY + " and one for the last 3");
    }

    @Test
    void aResetLetsTheWaitsGoAtOnce() throws Exception {
        DelayWaiter waiter = new DelayWaiter("nbd-delays-reset", () -> {}, new Semaphore(1));
        CountDownLatch cutShort = new CountDownLatch(1);
        CountDownLatch ran = new CountDownLatch(2);
        long far = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        assertTrue(waiter.schedule(far, cutShort, ran::countDown));
        assertTrue(waiter.schedule(far + 1, cutShort, ran::countDown));
        assertFalse(ran.await(100, TimeUnit.MILLISECONDS), "waiting for their deadline");
        cutShort.countDown(); // what a reset does to the export's latch, then it wakes the waiters
        TimedWaiter.Active.wakeAll();
        assertTrue(ran.await(WAIT.toSeconds(), TimeUnit.SECONDS), "cut short, long before the deadline");
    }

    @Test
    void pastTheBudgetTheCallerUsesTheSharedTimer() {
        DelayWaiter waiter = new DelayWaiter("nbd-delays-none", () -> {}, new Semaphore(0));
        assertFalse(waiter.schedule(System.nanoTime(), new CountDownLatch(1), () -> {}));
        assertFalse(threadNamed("nbd-delays-none"), "no thread was started");
    }

    private static long ms(long n) {
        return TimeUnit.MILLISECONDS.toNanos(n);
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(name));
    }
}
