package dev.faultdisk.wire.net;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A busy connection's platform reader looks for its next request for a short window before it
 * blocks. A client that sends its requests one system call each (fio's nbd engine, libnbd) wakes
 * a blocked reader for every request, and on a virtual machine that wake is a cross-CPU interrupt
 * the client pays for in each send (a tenth of fio's CPU at 4 KiB random reads); a reader still
 * running takes the request without it (docs/BENCHMARKS.md, "A short spin by default"). It spins
 * only while the connection is busy, that is while its last wait ended within {@code
 * -Dfaultdisk.nbd.spinBusyMicros} (default 60), for the window and within the readers' budget of
 * {@link InputSpin} (40 µs, one reader per two CPUs). QEMU's client answers a reply with its next
 * request 20-60 µs later (its coroutines, one reply read at a time): with 10 µs and 20 µs, the
 * defaults before, its reader blocked and was woken for nearly every request, and QEMU's 4 KiB
 * writes ran at 0.96 of nbdkit; with 40 and 60, 1.23 (docs/BENCHMARKS.md). A connection whose
 * requests come further apart (an idle one) blocks at once. The window of 50 µs and 1 ms measured
 * before helped delayed reads but took a CPU from whatever else ran, and was off by default. A TLS
 * connection waits with one before its idle wait ({@link #awaitThrough}), and its record reader
 * with one of its own inside a record ({@link RecordBuffer}): there the same rule keeps a hundred
 * busy connections on two CPUs from spinning while the others need the CPU. A plain connection
 * writing alone waits with its one inside a large payload too, so a client that sends a payload
 * in pieces far apart stops the look there as a late request does. One per connection, used by
 * its reader only.
 */
public final class ReaderSpin {
    private static final long BUSY_NANOS =
            TimeUnit.MICROSECONDS.toNanos(Math.max(0, Long.getLong("faultdisk.nbd.spinBusyMicros", 60)));

    /** The connection's input, asked only how many bytes wait in it. */
    private final InputStream waiting;

    private final InputSpin look;
    private final long busy;
    private final LongSupplier clock;
    /** The last wait ended within {@link #busy}. */
    private boolean spin;
    /** The spin of the wait going on saw input waiting. */
    private boolean found;

    /**
     * For a reader of {@code waiting} (a socket's stream; only its available() is used, which
     * counts the bytes waiting, FIONREAD, whatever the channel's mode), with the process's window
     * and budget.
     */
    public ReaderSpin(InputStream waiting) {
        this(waiting, InputSpin.shared(), BUSY_NANOS, System::nanoTime);
    }

    /**
     * @param waiting   the connection's input; only its {@link InputStream#available()} is used
     * @param look      how it looks for input before blocking (its window, the readers' budget)
     * @param busyNanos a wait at most this long keeps the connection busy
     * @param clock     nanoseconds, as {@link System#nanoTime()}
     */
    public ReaderSpin(InputStream waiting, InputSpin look, long busyNanos, LongSupplier clock) {
        this.waiting = waiting;
        this.look = look;
        this.busy = busyNanos;
        this.clock = clock;
    }

    /**
     * Waits for input with {@code read}: first, while the connection is busy, up to the window as
     * long as nothing is there to read; then {@code read} itself, which blocks as it would without
     * the spin.
     */
    public int await(Read read) throws IOException {
        if (look.off()) {
            return read.read(); // off: no clock on the reader's path
        }
        long start = clock.getAsLong();
        found = spin && look.lookFor(waiting);
        try {
            return read.read();
        } finally {
            // Also after a read that timed out or failed: a wait that long was not a busy one.
            spin = clock.getAsLong() - start <= busy;
        }
    }

    /**
     * Waits for the next request through a layer that holds input of its own (TLS, whose records
     * the socket no longer shows once read): with input held already ({@code held}), or seen by
     * the look while the connection is busy, {@code busy} reads on at once; else {@code idle}
     * waits as an idle connection does (its buffers given back, a poll the client must wake).
     */
    public int awaitThrough(BooleanSupplier held, Read busy, Read idle) throws IOException {
        if (held.getAsBoolean()) {
            return busy.read();
        }
        return await(() -> found ? busy.read() : idle.read());
    }

    /**
     * Whether the spin of the wait going on (called from its {@link Read}) saw input waiting: then
     * a read takes it at once, and a poll for it first would be a system call for nothing.
     */
    public boolean found() {
        return found;
    }

    /** Whether the next wait looks for input before it blocks. */
    public boolean spinning() {
        return spin;
    }

    /** The blocking read that follows the spin. */
    @FunctionalInterface
    public interface Read {
        int read() throws IOException;
    }
}
