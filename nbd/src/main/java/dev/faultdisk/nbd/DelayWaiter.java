package dev.faultdisk.nbd;

import dev.faultdisk.device.ThreadScheduling;
import dev.faultdisk.device.TimedWaiter;
import dev.faultdisk.device.TimerSlack;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A connection's own thread for its delayed requests: it sleeps until the earliest deadline, runs
 * the rests of the requests then due (the I/O, the reply into the reply buffer) and sends their
 * replies together, {@link #SEND_EVERY} at a time. One wake-up per batch, where the shared timer
 * took two (its own, then the connection's thread it handed the rests to); a rest that blocks (a
 * slow disk) holds up only this connection's delayed requests. A platform thread, so that its
 * timed sleep is the kernel's (a virtual thread's is one more hand-off), with a timer slack of 1
 * ns; it starts with the first delayed request and ends after {@link #LINGER_NANOS} without one.
 * At most {@code -Dfaultdisk.nbd.delayThreads} (default 256) run in the process: past that,
 * delayed requests wait on the shared timer as before.
 *
 * <p>A platform reader of a plain TCP or Unix socket connection serves the waits itself ({@link
 * DelaysOnReader}): it waits for its next request no longer than the next deadline and runs what
 * is then due ({@link #runDue}), so that one thread, not two, takes a request from the socket to
 * its reply (measured faster, with a lower tail, with clients that send requests one by one and in
 * groups: docs/BENCHMARKS.md). The thread then stands by, running a wait only once it is {@link
 * #STANDBY_NANOS} late (the reader is held up elsewhere), and serves on time again as soon as the
 * reader stops serving ({@link #readerServes}). Each time it looks and the reader has kept up, it
 * looks half as often, down to once a {@link #STANDBY_MAX_NANOS}; once it finds the reader behind,
 * as often as at first again. {@code -Dfaultdisk.nbd.delayOnReader=false} leaves
 * the waits to the thread.
 */
final class DelayWaiter implements TimedWaiter {
    private static final System.Logger LOG = System.getLogger(DelayWaiter.class.getName());
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * Replies built between two sends of a batch: a client takes back the first replies of a large
     * batch (64 at QD64) while the rest are built, instead of after all of them. Eight measured
     * best (docs/BENCHMARKS.md); {@code -Dfaultdisk.nbd.delaySendEvery} changes it.
     */
    static final int SEND_EVERY = Math.max(1, Integer.getInteger("faultdisk.nbd.delaySendEvery", 8));

    /**
     * While the reader serves the waits ({@link #readerServes}), the thread runs a wait only this
     * long after its deadline: when the reader is held up elsewhere (a write's payload, a full
     * socket), not as a matter of course.
     */
    private static final long STANDBY_NANOS = TimeUnit.MICROSECONDS.toNanos(250);

    /**
     * How far behind a reader that keeps up the thread stands by at most. Always 250 µs behind, the
     * thread woke about 3,500 times a second at QD64 to find nothing due, and the reader sharing
     * its CPU switched as often: backing off to 1 ms, the server's context switches fell from 7.4k
     * to 2.8k a second and 1 ms delays at QD64 ran 1.06x as fast (docs/BENCHMARKS.md, "This round
     * (after 1d3c23e)"). The cost: a reader held up after a stretch of keeping up has the waits
     * then due run up to this late, once, where they were run 250 µs late.
     */
    private static final long STANDBY_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final Semaphore THREADS = new Semaphore(Integer.getInteger("faultdisk.nbd.delayThreads", 256));

    private final Semaphore threads;
    private final long standby;
    private final long standbyMax;
    /** How far behind the reader the thread stands by now, {@link #standby} to {@link #standbyMax}. */
    private volatile long standbyNow;

    private final String name;
    private final Runnable afterBatch;
    private final PriorityQueue<Entry> queue = new PriorityQueue<>();
    private long order;
    /** The waiting thread, or null when none runs; guarded by {@code this}. */
    private Thread thread;
    /** A latch may have opened since the last look ({@link #wake}); guarded by {@code this}. */
    private boolean woken;
    /** The connection's reader waits for input no longer than the next deadline and runs what is due. */
    private volatile boolean readerServes;

    /**
     * @param name       the thread's name
     * @param afterBatch run after each batch of rests (sends the replies they built)
     */
    DelayWaiter(String name, Runnable afterBatch) {
        this(name, afterBatch, THREADS);
    }

    /** As above, with the budget of threads it shares with others. */
    DelayWaiter(String name, Runnable afterBatch, Semaphore threads) {
        this(name, afterBatch, threads, STANDBY_NANOS, STANDBY_MAX_NANOS);
    }

    /** As above, with how far behind a serving reader the thread stands by, always. */
    DelayWaiter(String name, Runnable afterBatch, Semaphore threads, long standbyNanos) {
        this(name, afterBatch, threads, standbyNanos, standbyNanos);
    }

    /**
     * As above, with how far behind a serving reader the thread stands by at first and, while the
     * reader keeps up, at most.
     */
    DelayWaiter(String name, Runnable afterBatch, Semaphore threads, long standbyNanos, long standbyMaxNanos) {
        this.name = name;
        this.afterBatch = afterBatch;
        this.threads = threads;
        this.standby = standbyNanos;
        this.standbyMax = Math.max(standbyNanos, standbyMaxNanos);
        this.standbyNow = standbyNanos;
    }

    @Override
    public boolean schedule(long nanoTime, CountDownLatch cutShort, Runnable rest) {
        Entry e;
        Thread wake;
        synchronized (this) {
            if (thread == null) {
                if (!threads.tryAcquire()) {
                    return false;
                }
                thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
                Active.add(this);
                thread.start();
            }
            e = new Entry(Math.ceilDiv(nanoTime, TICK_NANOS) * TICK_NANOS, order++, cutShort, rest);
            queue.add(e);
            wake = e.equals(queue.peek()) ? thread : null; // a new earliest deadline: sleep less
        }
        if (wake != null) {
            LockSupport.unpark(wake);
        }
        return true;
    }

    @Override
    public void wake() {
        Thread t;
        synchronized (this) {
            t = thread;
            woken = true;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void run() {
        TimerSlack.minimize();
        ThreadScheduling.enter();
        long idleSince = System.nanoTime();
        long lookAt = Long.MAX_VALUE; // when the last sleep behind a serving reader was to end
        try {
            while (true) {
                List<Entry> due;
                long sleep;
                synchronized (this) {
                    long now = System.nanoTime();
                    boolean serving = readerServes;
                    due = takeDue(now - (serving ? standbyNow : 0));
                    if (serving && lookAt != Long.MAX_VALUE && now - lookAt >= 0) {
                        // Looked when it meant to: the reader kept up (nothing due), or was behind.
                        standbyNow = due.isEmpty() ? Math.min(2 * standbyNow, standbyMax) : standby;
                    }
                    lookAt = Long.MAX_VALUE;
                    if (due.isEmpty()) {
                        if (!queue.isEmpty()) {
                            idleSince = now; // waits held (a serving reader runs them): not idle
                        } else if (now - idleSince >= LINGER_NANOS) {
                            thread = null;
                            Active.remove(this);
                            return;
                        }
                        sleep = queue.isEmpty()
                                ? LINGER_NANOS - (now - idleSince)
                                : queue.peek().at - now + (serving ? standbyNow : 0);
                        if (serving && !queue.isEmpty()) {
                            lookAt = now + sleep;
                        }
                    } else {
                        sleep = 0;
                    }
                }
                if (due.isEmpty()) {
                    LockSupport.parkNanos(this, sleep);
                    continue;
                }
                serve(due);
                idleSince = System.nanoTime();
            }
        } finally {
            threads.release();
        }
    }

    /** Runs the rests of {@code due}, sending their replies {@link #SEND_EVERY} at a time. */
    private void serve(List<Entry> due) {
        int unsent = 0;
        for (Entry e : due) {
            try {
                e.rest.run();
            } catch (RuntimeException | Error ex) {
                LOG.log(System.Logger.Level.ERROR, "a delayed request failed after its wait", ex);
            }
            if (++unsent == SEND_EVERY) {
                afterBatch.run();
                unsent = 0;
            }
        }
        if (unsent > 0) {
            afterBatch.run();
        }
    }

    /**
     * Whether the connection's reader serves the waits as they fall due ({@link #runDue}, {@link
     * #nextDue}); the thread then only stands by, its standby time behind. When the reader stops
     * serving with waits held, the thread is woken to serve them on time.
     */
    void readerServes(boolean serves) {
        if (readerServes == serves) {
            return;
        }
        readerServes = serves;
        if (serves) {
            standbyNow = standby; // a reader that starts serving has kept up with nothing yet
        } else {
            Thread t;
            synchronized (this) {
                t = queue.isEmpty() ? null : thread;
            }
            if (t != null) {
                LockSupport.unpark(t); // it slept until a standby's deadline: now the real one
            }
        }
    }

    /** How far behind a serving reader the thread stands by now (tests). */
    long standbyNanos() {
        return standbyNow;
    }

    /** Runs on the calling thread (the reader) the rests now due or cut short; false if none was. */
    boolean runDue() {
        List<Entry> due;
        synchronized (this) {
            if (queue.isEmpty()) {
                return false;
            }
            due = takeDue(System.nanoTime());
        }
        if (due.isEmpty()) {
            return false;
        }
        serve(due);
        return true;
    }

    /** The earliest deadline held ({@link System#nanoTime()}), or {@link Long#MAX_VALUE} if none. */
    synchronized long nextDue() {
        Entry e = queue.peek();
        return e == null ? Long.MAX_VALUE : woken ? System.nanoTime() : e.at;
    }

    /** The entries due at {@code now} or cut short, in deadline order; guarded by {@code this}. */
    private List<Entry> takeDue(long now) {
        List<Entry> due = new ArrayList<>();
        while (!queue.isEmpty() && queue.peek().at - now <= 0) {
            due.add(queue.poll());
        }
        if (woken) {
            woken = false;
            List<Entry> rest = new ArrayList<>(queue);
            rest.sort(null);
            for (Entry e : rest) {
                if (e.cutShort() && queue.remove(e)) {
                    due.add(e);
                }
            }
        }
        return due;
    }

    private record Entry(long at, long order, CountDownLatch latch, Runnable rest) implements Comparable<Entry> {
        boolean cutShort() {
            return latch != null && latch.getCount() == 0;
        }

        @Override
        public int compareTo(Entry o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }
}
