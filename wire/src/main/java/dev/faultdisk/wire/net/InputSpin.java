package dev.faultdisk.wire.net;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A server's reader about to block on its socket looks for input for a short window first. On
 * loopback the client's send runs the server's receive, so a blocked reader is woken by the
 * client, in its system call, and on a virtual machine that wake is a cross-CPU interrupt: a
 * client sending a 1 MiB write over TLS woke faultdisk's reader 14 times a MiB and spent 8% more
 * CPU on it than on nbdkit's, whose slower reader seldom blocked (docs/BENCHMARKS.md, "A spin
 * inside a TLS record"). It looks ({@link InputStream#available()}, FIONREAD on a socket) for {@code
 * -Dfaultdisk.nbd.spinMicros} at most (default 40; 0 turns it off), only on a platform thread (a
 * virtual one would hold its carrier), and only while fewer than {@code -Dfaultdisk.nbd.spinners}
 * readers look at once (default one per two CPUs: with more busy connections than that, input is
 * mostly there already, and a spinning reader would take the CPU the others need).
 */
public final class InputSpin {
    private static final InputSpin SHARED = new InputSpin(
            TimeUnit.MICROSECONDS.toNanos(Math.max(0, Long.getLong("faultdisk.nbd.spinMicros", 40))),
            System::nanoTime,
            new AtomicInteger(Integer.getInteger(
                    "faultdisk.nbd.spinners", Math.max(1, Runtime.getRuntime().availableProcessors() / 2))));

    private final long window;
    private final LongSupplier clock;
    /** Spins left to take; shared by the readers of the process. */
    private final AtomicInteger spinners;

    /**
     * @param windowNanos how long to look for input at most (0: never)
     * @param clock       nanoseconds, as {@link System#nanoTime()}
     * @param spinners    how many more readers may look at once, shared with them
     */
    public InputSpin(long windowNanos, LongSupplier clock, AtomicInteger spinners) {
        this.window = windowNanos;
        this.clock = clock;
        this.spinners = spinners;
    }

    /** The process's readers' spin, from the settings above. */
    public static InputSpin shared() {
        return SHARED;
    }

    /** Whether it never looks (a window of 0). */
    public boolean off() {
        return window == 0;
    }

    /**
     * Looks for input in {@code waiting} until some is there or the window has passed; true if
     * some is. False at once where it does not look (see the class comment).
     */
    public boolean lookFor(InputStream waiting) throws IOException {
        if (window == 0 || Thread.currentThread().isVirtual()) {
            return false;
        }
        try {
            if (spinners.getAndDecrement() <= 0) {
                return false;
            }
            long start = clock.getAsLong();
            boolean found;
            while (!(found = waiting.available() > 0) && clock.getAsLong() - start < window) {
                Thread.onSpinWait();
            }
            return found;
        } finally {
            spinners.incrementAndGet();
        }
    }
}
