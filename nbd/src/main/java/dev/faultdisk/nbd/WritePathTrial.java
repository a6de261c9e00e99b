package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Which way one connection's large writes go, on its reader or off it, found by trying both in
 * turn on the connection's own writes and keeping the faster. Which is faster depends on the
 * machine: over a Unix socket a write on a thread of its own while the reader receives the next
 * payload ran 1.2-1.4x and 1.27-1.46x faster on machines where writing a MiB into the image cost
 * about as much as receiving it, and 0.80-0.90x where it cost far less and the hand-off was the
 * larger cost (docs/BENCHMARKS.md, "Large writes over a Unix socket tried both ways").
 *
 * <p>A trial is {@link #BLOCKS} blocks each way, alternating (on, off, on, off...), each
 * {@link #SETTLE} untimed writes (the client's queue refills after a change of way) then {@link
 * #TIMED} timed ones, from the header of one to the header of the next (the pace the client
 * keeps: it sends the next write when a reply comes back). The pace over 100 ms moved by a third
 * from one tenth of a second to the next on the machine measured, so one block each way chose
 * badly; blocks in alternation also cancel a drift (the JIT, the machine's load) that would favour
 * whichever way came second. The faster way is kept for {@link #KEEP} writes, then both are tried
 * again. A pause between two writes longer than {@link #PAUSE_NANOS} starts the trial over: a
 * client's think time is no way's cost. Used by the connection's reader only.
 */
final class WritePathTrial {
    static final int BLOCKS = 4;
    static final int SETTLE = 16;
    static final int TIMED = 64;
    static final int KEEP = 8192;
    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Off the reader costs a hand-off in CPU: kept only if this much faster (percent). */
    private static final int OFF_MARGIN_PERCENT = 3;

    private final LongSupplier nanoClock;
    /** The block of the trial (even: on the reader, odd: off it), or -1 while the way found is kept. */
    private int block;
    /** Writes seen in this block, or since the way was kept. */
    private int count;

    private long timedFrom;
    private long last = Long.MIN_VALUE;
    private long onNanos;
    private long offNanos;
    private boolean keepOff;

    WritePathTrial(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Whether this large write, just arrived, goes off the reader. */
    boolean offReader() {
        long now = nanoClock.getAsLong();
        if (last != Long.MIN_VALUE && now - last > PAUSE_NANOS && block >= 0) {
            restart();
        }
        last = now;
        if (block < 0) {
            if (++count >= KEEP) {
                restart();
            }
            return keepOff;
        }
        if (count == SETTLE) {
            timedFrom = now;
        } else if (count == SETTLE + TIMED) {
            if (block % 2 == 0) {
                onNanos += now - timedFrom;
            } else {
                offNanos += now - timedFrom;
            }
            count = 0;
            if (++block == 2 * BLOCKS) {
                keepOff = offNanos * (100 + OFF_MARGIN_PERCENT) < onNanos * 100;
                block = -1;
                count = 1;
                return keepOff;
            }
        }
        count++;
        return block % 2 == 1;
    }

    /** The writes stopped being this connection's alone, or paused: the next ones are tried again. */
    void restart() {
        block = 0;
        count = 0;
        last = Long.MIN_VALUE;
        onNanos = 0;
        offNanos = 0;
    }

    /** Whether the way kept is off the reader (false while trying). */
    boolean keptOff() {
        return block < 0 && keepOff;
    }
}
