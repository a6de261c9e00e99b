package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.TimedWaiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A connection's delay thread, on real time: rests run on it in deadline order and never before
 * their deadline, a batch's replies are sent a few at a time, a reset lets them go at once, the thread
 * ends when idle, and past the budget the caller is told to use the shared timer. A reader that
 * serves the waits runs them itself while the thread stands by, and hands them back when it stops.
 */
class DelayWaiterTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void restsRunOnTheConnectionsThreadInDeadlineOrderAndNotBefore() throws Exception {
        AtomicInteger batches = new AtomicInteger();
        List<String> ran = new CopyOnWriteArrayList<>();
        Semaphore budget = new Semaphore(1);
        DelayWaiter waiter = new DelayWaiter("nbd-delays-test", batches::incrementAndGet, budget);
        scheduleThree(waiter, System.nanoTime(), ran);
        assertEquals(0, budget.availablePermits(), "one thread runs, from the budget");
        await().atMost(WAIT).until(() -> ran.size() == 3);
        assertEquals(List.of("r1@nbd-delays-test", "r2@nbd-delays-test", "r0@nbd-delays-test"), ran);
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
    void aReaderThatServesRunsWhatFallsDueOnItsOwnThreadInDeadlineOrder() throws Exception {
        DelayWaiter waiter = new DelayWaiter("nbd-delays-reader", () -> {}, new Semaphore(1), ms(5_000));
        waiter.readerServes(true);
        List<String> ran = new CopyOnWriteArrayList<>();
        // Deadlines half a second out: a machine that stalls this thread for tens of milliseconds
        // (CI failed so at b0f9299) still has nothing due at the first check.
        long start = System.nanoTime() + ms(500);
        scheduleThree(waiter, start, ran);
        long tick = TimedWaiter.TICK_NANOS;
        assertEquals(Math.ceilDiv(start + ms(20), tick) * tick, waiter.nextDue(), "the earliest deadline, on its tick");
        assertFalse(waiter.runDue(), "nothing is due yet");
        String me = Thread.currentThread().getName();
        while (waiter.nextDue() != Long.MAX_VALUE) {
            LockSupport.parkNanos(Math.max(0, waiter.nextDue() - System.nanoTime())); // the reader's poll
            waiter.runDue();
        }
        assertEquals(List.of("r1@" + me, "r2@" + me, "r0@" + me), ran, "run by the reader, none by the thread");
    }

    @Test
    void theThreadStandsByForAReaderHeldUpElsewhere() throws Exception {
        long standby = ms(300);
        DelayWaiter waiter = new DelayWaiter("nbd-delays-standby", () -> {}, new Semaphore(1), standby);
        waiter.readerServes(true);
        long deadline = System.nanoTime() + ms(20);
        CountDownLatch ran = new CountDownLatch(1);
        long[] late = new long[1];
        String[] on = new String[1];
        assertTrue(waiter.schedule(deadline, new CountDownLatch(1), () -> {
            late[0] = System.nanoTime() - deadline;
            on[0] = Thread.currentThread().getName();
            ran.countDown();
        }));
        // The reader never comes back to serve it: the thread does, once it is the standby time late.
        assertTrue(ran.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals("nbd-delays-standby", on[0]);
        assertTrue(late[0] >= standby, "ran " + late[0] + " ns after its deadline, before the standby's " + standby);
    }

    @Test
    void aReaderThatStopsServingHandsTheWaitsBackToTheThreadOnTime() throws Exception {
        DelayWaiter waiter = new DelayWaiter("nbd-delays-back", () -> {}, new Semaphore(1), ms(600_000));
        waiter.readerServes(true);
        long deadline = System.nanoTime() + ms(20);
        CountDownLatch ran = new CountDownLatch(1);
        String[] on = new String[1];
        assertTrue(waiter.schedule(deadline, new CountDownLatch(1), () -> {
            on[0] = Thread.currentThread().getName();
            ran.countDown();
        }));
        assertFalse(ran.await(100, TimeUnit.MILLISECONDS), "left to the reader, ten minutes of standby");
        waiter.readerServes(false); // the reader is about to block for long (no input, a full budget)
        assertTrue(ran.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the thread serves it without the standby");
        assertEquals("nbd-delays-back", on[0]);
    }

    @Test
    void theThreadStandingByStaysWhileTheReaderKeepsItBusy() throws Exception {
        AtomicInteger starts = new AtomicInteger();
        Semaphore budget = new Semaphore(1) {
            @Override
            public boolean tryAcquire() {
                starts.incrementAndGet();
                return super.tryAcquire();
            }
        };
        DelayWaiter waiter = new DelayWaiter("nbd-delays-stays", () -> {}, budget, TimeUnit.MICROSECONDS.toNanos(250));
        waiter.readerServes(true);
        AtomicInteger ran = new AtomicInteger();
        long end = System.nanoTime() + ms(400); // four times the thread's linger
        while (System.nanoTime() - end < 0) { // one request at a time, each served by the reader
            assertTrue(waiter.schedule(System.nanoTime() + ms(2), new CountDownLatch(1), ran::incrementAndGet));
            while (waiter.nextDue() != Long.MAX_VALUE) {
                LockSupport.parkNanos(Math.max(0, waiter.nextDue() - System.nanoTime()));
                waiter.runDue();
            }
            Thread.sleep(2); // the client's turn: the thread, a standby's time late, finds nothing held
        }
        assertTrue(ran.get() > 0);
        assertEquals(1, starts.get(), "one thread stood by throughout, not one per linger");
    }

    @Test
    void theThreadLooksLessOftenWhileTheReaderKeepsUpAndAsOftenAsAtFirstOnceItFallsBehind() throws Exception {
        long standby = ms(20);
        String name = "nbd-delays-backoff";
        DelayWaiter waiter = new DelayWaiter(name, () -> {}, new Semaphore(1), standby, ms(320));
        waiter.readerServes(true);
        // A reader that keeps up: requests 30 ms deep, one every 2 ms, each run near its deadline by
        // the reader, so the thread finds nothing due each time it looks.
        AtomicInteger byReader = new AtomicInteger();
        List<Long> lateOnThread = new CopyOnWriteArrayList<>();
        AtomicBoolean heldUp = new AtomicBoolean();
        long end = System.nanoTime() + WAIT.toNanos();
        while (waiter.standbyNanos() < 4 * standby && System.nanoTime() - end < 0) {
            long at = System.nanoTime() + ms(30);
            assertTrue(waiter.schedule(at, new CountDownLatch(1), () -> {
                if (!Thread.currentThread().getName().equals(name)) {
                    byReader.incrementAndGet();
                } else if (heldUp.get()) {
                    lateOnThread.add(System.nanoTime() - at);
                }
            }));
            waiter.runDue();
            Thread.sleep(2);
        }
        assertTrue(
                waiter.standbyNanos() >= 4 * standby,
                "a reader that kept up: the thread stands by " + waiter.standbyNanos() + " ns behind, not longer");
        assertTrue(byReader.get() > 0);
        // The reader held up from here: what falls due is the thread's, the grown standby late at
        // first; then it stands by as at first.
        heldUp.set(true);
        await().atMost(WAIT).until(() -> !lateOnThread.isEmpty());
        assertTrue(
                lateOnThread.get(0) >= 2 * standby,
                "the first ran " + lateOnThread.get(0) + " ns late, within the first standby");
        await().atMost(WAIT)
                .untilAsserted(() -> assertEquals(standby, waiter.standbyNanos(), "found the reader behind"));
    }

    @Test
    void pastTheBudgetTheCallerUsesTheSharedTimer() {
        DelayWaiter waiter = new DelayWaiter("nbd-delays-none", () -> {}, new Semaphore(0));
        assertFalse(waiter.schedule(System.nanoTime(), new CountDownLatch(1), () -> {}));
        assertFalse(threadNamed("nbd-delays-none"), "no thread was started");
    }

    /**
     * Schedules r0, r1, r2 at 60, 20 and 40 ms after {@code start}; each, as it runs, adds
     * "id@thread" to {@code ran}, and " early" if it ran before its deadline.
     */
    private static void scheduleThree(DelayWaiter waiter, long start, List<String> ran) {
        long[] at = {start + ms(60), start + ms(20), start + ms(40)};
        for (int i = 0; i < at.length; i++) {
            String id = "r" + i;
            long deadline = at[i];
            assertTrue(waiter.schedule(deadline, new CountDownLatch(1), () -> {
                boolean early = System.nanoTime() - deadline < 0;
                ran.add(id + "@" + Thread.currentThread().getName() + (early ? " early" : ""));
            }));
        }
    }

    private static long ms(long n) {
        return TimeUnit.MILLISECONDS.toNanos(n);
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(name));
    }
}
