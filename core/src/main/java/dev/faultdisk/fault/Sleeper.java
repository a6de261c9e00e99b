package dev.faultdisk.fault;

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

    /** Real time: {@code Thread.sleep} and timed latch waits against {@code clock}. */
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
        };
    }
}
