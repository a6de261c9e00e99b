package dev.faultdisk.device;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A thread of a request's caller that waits out the request's timed waits (an injected delay, a
 * throttle) itself and runs the rest of the request there, when the clock is the real one: one
 * wake-up per wait instead of two (the shared timer's, then the thread {@link Completion#resume}
 * hands the rest to). A frontend offers one per connection ({@link Completion#waiter}).
 */
public interface TimedWaiter {

    /**
     * Deadlines are rounded up to this ({@code faultdisk.delay.tickMicros}, 20 µs by default), so
     * that requests due within it are let go together and their replies leave together. 20 rather
     * than 50: delays end closer to what was asked, and QD64 behind a light client went faster
     * (docs/BENCHMARKS.md).
     */
    long TICK_NANOS = Math.max(1, TimeUnit.MICROSECONDS.toNanos(Long.getLong("faultdisk.delay.tickMicros", 20)));

    /**
     * Runs {@code rest} once {@link System#nanoTime()} reaches {@code nanoTime}, or soon after
     * {@code cutShort} opens and {@link Active#wakeAll} is called; false if this waiter takes no
     * more (over its budget, or closed): the caller then uses the clock's timer.
     */
    boolean schedule(long nanoTime, CountDownLatch cutShort, Runnable rest);

    /** Runs now what it holds whose {@code cutShort} latch has opened. */
    void wake();

    /** The waiters holding entries now: a reset of any export's waits must reach them all. */
    final class Active {
        private static final Set<TimedWaiter> WAITERS = ConcurrentHashMap.newKeySet();

        private Active() {}

        public static void add(TimedWaiter w) {
            WAITERS.add(w);
        }

        public static void remove(TimedWaiter w) {
            WAITERS.remove(w);
        }

        /** Every waiter runs what a latch that opened has cut short. */
        public static void wakeAll() {
            WAITERS.forEach(TimedWaiter::wake);
        }
    }
}
