package dev.faultdisk.fault;

import dev.faultdisk.device.TimedWaiter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Waiting on the same time the fault clock reads, so that tests can run delays, throttles and
 * expiries on virtual time ({@link VirtualTime}). The system sleeper parks the calling thread:
 * on the virtual thread each blocking request runs on, that is a scheduled wake-up, not a
 * worker held from a pool.
 */
public interface Sleeper {

    /** Returns once the clock reads {@code deadline} or later. */
    void sleepUntil(Instant deadline) throws InterruptedException;

    /**
     * Waits until {@code latch} opens or the clock reaches {@code deadline} (null: no deadline).
     * Returns true if the latch opened.
     */
    boolean await(CountDownLatch latch, Instant deadline) throws InterruptedException;

    /**
     * Runs {@code task} once the clock reads {@code deadline}, or soon after {@code cutShort}
     * opens and {@link #wake} is told so, on the timer's thread: what waits meanwhile is an entry
     * in a queue, not a parked thread. The task must not block. By default a virtual thread waits
     * for it.
     */
    default void schedule(Instant deadline, CountDownLatch cutShort, Runnable task) {
        Thread.ofVirtual().name("faultdisk-timed-wait").start(() -> {
            try {
                await(cutShort, deadline);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            task.run();
        });
    }

    /** {@code cutShort} opened: what {@link #schedule} queued with it runs now. */
    default void wake(CountDownLatch cutShort) {}

    /**
     * True if this sleeper waits on real time ({@link System#nanoTime()}), so that a caller's own
     * {@link dev.faultdisk.device.TimedWaiter} may wait in its place.
     */
    default boolean realTime() {
        return false;
    }

    /** Real time: {@code Thread.sleep}, timed latch waits and the {@link DelayTimer}, against {@code clock}. */
    static Sleeper system(InstantSource clock) {
        return new Sleeper() {
            @Override
            public void sleepUntil(Instant deadline) throws InterruptedException {
                Duration left = Duration.between(clock.instant(), deadline);
                if (left.isPositive()) {
                    Thread.sleep(left);
                }
            }

            @Override
            public boolean await(CountDownLatch latch, Instant deadline) throws InterruptedException {
                if (deadline == null) {
                    latch.await();
                    return true;
                }
                long nanos = Duration.between(clock.instant(), deadline).toNanos();
                return latch.await(Math.max(0, nanos), TimeUnit.NANOSECONDS);
            }

            @Override
            public void schedule(Instant deadline, CountDownLatch cutShort, Runnable task) {
                long in = Duration.between(clock.instant(), deadline).toNanos();
                DelayTimer.shared().schedule(System.nanoTime() + Math.max(0, in), cutShort, task);
            }

            @Override
            public void wake(CountDownLatch cutShort) {
                DelayTimer.shared().wake(cutShort);
                TimedWaiter.Active.wakeAll();
            }

            @Override
            public boolean realTime() {
                return true;
            }
        };
    }
}
