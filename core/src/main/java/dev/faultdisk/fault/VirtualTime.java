package dev.faultdisk.fault;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CountDownLatch;

/**
 * Time that moves only when told, for deterministic tests of delays, throttles and expiries.
 * In auto-advance mode a sleep moves the clock to its deadline at once (a single-threaded test
 * then runs a 10 s delay in no time and sees the clock move by 10 s); otherwise sleepers wait
 * until {@link #advance} reaches their deadline. Latch waits poll the latch briefly in real
 * time, so a release from another thread is seen without advancing the clock. Scheduled tasks
 * ({@link #schedule}) run on the thread that advances the clock past their deadline.
 */
public final class VirtualTime implements InstantSource, Sleeper {
    private final Instant epoch;
    private final boolean autoAdvance;
    private long nanos;
    private int sleeping;
    private long order;
    private final PriorityQueue<Timed> timed = new PriorityQueue<>();

    /** A task waiting for the clock: by deadline, then in the order it came. */
    private record Timed(long target, long order, CountDownLatch cutShort, Runnable task) implements Comparable<Timed> {
        @Override
        public int compareTo(Timed o) {
            int c = Long.compare(target, o.target);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    private VirtualTime(Instant epoch, boolean autoAdvance) {
        this.epoch = epoch;
        this.autoAdvance = autoAdvance;
    }

    /** Time that moves only through {@link #advance}. */
    public static VirtualTime manual(Instant start) {
        return new VirtualTime(start, false);
    }

    /** Time that jumps to each sleeper's deadline. */
    public static VirtualTime autoAdvancing(Instant start) {
        return new VirtualTime(start, true);
    }

    /** This clock and itself as the sleeper. */
    public FaultTime faultTime() {
        return new FaultTime(this, this);
    }

    @Override
    public synchronized Instant instant() {
        return epoch.plusNanos(nanos);
    }

    /** Time elapsed since the start. */
    public synchronized Duration elapsed() {
        return Duration.ofNanos(nanos);
    }

    /** Moves the clock forward, wakes sleepers whose deadline has come and runs the tasks due, in deadline order. */
    public void advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("time does not go back: " + by);
        }
        synchronized (this) {
            nanos += by.toNanos();
            notifyAll();
        }
        runDue();
    }

    /** Runs, outside the lock, the tasks whose deadline has come (and those they schedule that are due). */
    private void runDue() {
        while (true) {
            Timed t;
            synchronized (this) {
                t = timed.peek();
                if (t == null || t.target > nanos) {
                    return;
                }
                timed.poll();
            }
            t.task.run();
        }
    }

    /** Tasks scheduled and not yet run: what submitted requests' delays wait as. */
    public synchronized int scheduled() {
        return timed.size();
    }

    @Override
    public void schedule(Instant deadline, CountDownLatch cutShort, Runnable task) {
        long target = Duration.between(epoch, deadline).toNanos();
        synchronized (this) {
            if (autoAdvance && target > nanos) {
                nanos = target;
                notifyAll();
            }
            timed.add(new Timed(target, order++, cutShort, task));
            notifyAll();
        }
        if (cutShort != null && cutShort.getCount() == 0) {
            wake(cutShort);
        }
        runDue();
    }

    @Override
    public void wake(CountDownLatch cutShort) {
        List<Timed> due = new ArrayList<>();
        synchronized (this) {
            timed.removeIf(t -> {
                if (java.util.Objects.equals(t.cutShort, cutShort)) {
                    due.add(t);
                    return true;
                }
                return false;
            });
        }
        due.sort(null);
        due.forEach(t -> t.task.run());
    }

    /** Threads sleeping or waiting on this clock now. */
    public synchronized int sleepers() {
        return sleeping;
    }

    /** Waits (in real time, up to {@code timeout}) until at least {@code n} threads sleep on this clock. */
    public synchronized boolean awaitSleepers(int n, Duration timeout) throws InterruptedException {
        long end = System.currentTimeMillis() + timeout.toMillis();
        while (sleeping < n) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    @Override
    public synchronized void sleepUntil(Instant deadline) throws InterruptedException {
        long target = Duration.between(epoch, deadline).toNanos();
        if (autoAdvance) {
            if (target > nanos) {
                nanos = target;
                notifyAll();
            }
            return;
        }
        sleeping++;
        notifyAll();
        try {
            while (nanos < target) {
                wait();
            }
        } finally {
            sleeping--;
        }
    }

    @Override
    public boolean await(CountDownLatch latch, Instant deadline) throws InterruptedException {
        synchronized (this) {
            if (autoAdvance && deadline != null && latch.getCount() > 0) {
                sleepUntil(deadline);
                return latch.getCount() == 0;
            }
            sleeping++;
            notifyAll();
        }
        try {
            while (true) {
                if (latch.getCount() == 0) {
                    return true;
                }
                synchronized (this) {
                    if (deadline != null && !instant().isBefore(deadline)) {
                        return latch.getCount() == 0;
                    }
                    wait(5); // a release counts the latch down without notifying this clock
                }
            }
        } finally {
            synchronized (this) {
                sleeping--;
            }
        }
    }
}
