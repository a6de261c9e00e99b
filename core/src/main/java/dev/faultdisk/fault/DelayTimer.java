package dev.faultdisk.fault;

import dev.faultdisk.device.ThreadScheduling;
import dev.faultdisk.device.TimedWaiter;
import dev.faultdisk.device.TimerSlack;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One thread that runs tasks at their deadlines, for the system clock ({@link Sleeper#system}):
 * the delays and throttles of submitted requests wait here as entries of one queue, not as parked
 * threads with their stacks. Deadlines are rounded up to a tick ({@code faultdisk.delay.tickMicros},
 * 20 µs by default) so that requests due within it are let go together, and their replies leave
 * together; a wait is never shorter than asked. Tasks run on the timer's thread and must not block
 * (a frontend's task hands the rest of its request to a thread of the connection's).
 */
final class DelayTimer {
    private static final System.Logger LOG = System.getLogger(DelayTimer.class.getName());

    private final DelayQueue<Entry> queue = new DelayQueue<>();
    private final AtomicLong order = new AtomicLong();
    private final long tick;

    private DelayTimer(long tickNanos) {
        this.tick = Math.max(1, tickNanos);
        Thread t = Thread.ofPlatform().daemon().name("faultdisk-delay-timer").unstarted(this::run);
        t.start();
    }

    /** The process's timer, started on first use. */
    static DelayTimer shared() {
        return Shared.TIMER;
    }

    private static final class Shared {
        static final DelayTimer TIMER = new DelayTimer(TimedWaiter.TICK_NANOS);
    }

    /** Runs {@code task} at {@code nanoTime} (of {@link System#nanoTime()}), or when {@code cutShort} is woken. */
    void schedule(long nanoTime, CountDownLatch cutShort, Runnable task) {
        long at = Math.ceilDiv(nanoTime, tick) * tick;
        queue.add(new Entry(at, order.incrementAndGet(), cutShort, task));
        if (cutShort != null && cutShort.getCount() == 0) {
            wake(cutShort); // opened while this was queued: no wake-up would come for it
        }
    }

    /** Runs now every task queued with {@code cutShort}. */
    void wake(CountDownLatch cutShort) {
        List<Entry> due = new ArrayList<>();
        for (Entry e : queue) {
            if (java.util.Objects.equals(e.cutShort, cutShort) && queue.remove(e)) {
                due.add(e);
            }
        }
        due.sort(null);
        due.forEach(DelayTimer::run);
    }

    /** Tasks waiting now. */
    int pending() {
        return queue.size();
    }

    private void run() {
        if (!TimerSlack.minimize()) {
            LOG.log(System.Logger.Level.DEBUG, "timer slack stays the kernel's: delays may end up to 50 µs late");
        }
        ThreadScheduling.enter();
        while (true) {
            try {
                run(queue.take());
                for (Entry e; (e = queue.poll()) != null; ) {
                    run(e);
                }
            } catch (InterruptedException e) {
                LOG.log(System.Logger.Level.DEBUG, "delay timer interrupted; it goes on");
            }
        }
    }

    private static void run(Entry e) {
        try {
            e.task.run();
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.ERROR, "a timed task failed", ex);
        }
    }

    private record Entry(long at, long order, CountDownLatch cutShort, Runnable task) implements Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(at - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            Entry other = (Entry) o;
            int c = Long.compare(at, other.at);
            return c != 0 ? c : Long.compare(order, other.order);
        }
    }
}
