package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Which way the server's large writes over Unix sockets go while one connection sends them alone,
 * on its reader or off it, found by trying both in turn and keeping the faster. Which is faster
 * depends on the machine: a write on a thread of its own while the reader receives the next
 * payload ran 1.2-1.4x and 1.27-1.46x faster on machines where writing a MiB into the image cost
 * about as much as receiving it, and 0.80-0.90x where it cost far less and the hand-off was the
 * larger cost (docs/BENCHMARKS.md, "Large writes over a Unix socket tried both ways"). It is the
 * machine's, so one trial serves every connection, and a new connection takes the way kept at once.
 *
 * <p>A trial is {@link #BLOCKS} blocks each way, alternating (on, off, on, off), each {@link
 * #SETTLE_NANOS} of writing untimed and then {@link #TIMED_NANOS} timed: the time from the header
 * of one write to the header of the next (the pace the client keeps: it sends the next write when
 * a reply comes back), over the bytes written. Blocks of writes rather than of time (80 and 256
 * writes) saw the two ways at the same pace where whole runs differ by 1.3x and more: the way off
 * the reader reaches its pace only after a stream has kept to it for a while. A gap between two
 * writes longer than {@link #PAUSE_NANOS} counts for neither way (a client's think time, another
 * workload). The faster way is kept for {@link #KEEP_NANOS}, then both are tried again.
 * Thread-safe: the connection writing alone calls it, and two may overlap at a hand-over.
 */
final class WritePathTrial {
    static final int BLOCKS = 2;
    static final long SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(300);
    static final long TIMED_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    static final long KEEP_NANOS = TimeUnit.MINUTES.toNanos(10);
    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Off the reader costs a hand-off in CPU: kept only if this much faster (percent). */
    private static final int OFF_MARGIN_PERCENT = 3;

    private final LongSupplier nanoClock;
    /** The block of the trial (even: on the reader, odd: off it), or -1 while the way found is kept. */
    private int block;
    /** Writing time in this block so far, pauses left out. */
    private long active;

    private long keptSince;
    private long last = Long.MIN_VALUE;
    /** The bytes of the last write, whose time runs until the next write's header. */
    private long lastBytes;
    /** Timed nanoseconds and bytes of each way: [0] on the reader, [1] off it. */
    private final long[] nanos = new long[2];

    private final long[] bytes = new long[2];
    private boolean keepOff;

    WritePathTrial(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Whether this large write of {@code length} bytes, just arrived, goes off the reader. */
    synchronized boolean offReader(long length) {
        long now = nanoClock.getAsLong();
        long gap = last == Long.MIN_VALUE ? 0 : now - last;
        long timedBytes = lastBytes;
        last = now;
        lastBytes = length;
        if (block < 0) {
            if (now - keptSince < KEEP_NANOS) {
                return keepOff;
            }
            restart();
            last = now;
            lastBytes = length;
            return false;
        }
        if (gap > PAUSE_NANOS) {
            return block % 2 == 1; // think time: no way's cost
        }
        active += gap;
        if (active > SETTLE_NANOS) {
            // The last write's time, on this block's way (whatever part of it fell after the settling).
            long timed = Math.min(gap, active - SETTLE_NANOS);
            nanos[block % 2] += timed;
            bytes[block % 2] += gap == 0 ? 0 : Math.max(1, timedBytes * timed / gap);
        }
        if (active >= SETTLE_NANOS + TIMED_NANOS) {
            active = 0;
            if (++block == 2 * BLOCKS) {
                // nanos a byte off the reader, with the margin, below that on it
                keepOff = bytes[0] > 0
                        && bytes[1] > 0
                        && nanos[1] * (100 + OFF_MARGIN_PERCENT) * (double) bytes[0]
                                < nanos[0] * 100 * (double) bytes[1];
                block = -1;
                keptSince = now;
                return keepOff;
            }
        }
        return block % 2 == 1;
    }

    /** Both ways are tried again, from the next write. */
    synchronized void restart() {
        block = 0;
        active = 0;
        last = Long.MIN_VALUE;
        lastBytes = 0;
        nanos[0] = nanos[1] = 0;
        bytes[0] = bytes[1] = 0;
    }

    /** Whether both ways are being tried (else one is kept). */
    synchronized boolean trying() {
        return block >= 0;
    }

    /** Whether the way kept is off the reader (false while trying). */
    synchronized boolean keptOff() {
        return block < 0 && keepOff;
    }
}
