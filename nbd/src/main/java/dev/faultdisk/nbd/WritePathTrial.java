package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Which way one connection's large writes go, on its reader or off it, found by trying both in
 * turn on the connection's own writes and keeping the faster. Which is faster depends on the
 * machine: over a Unix socket a write on a thread of its own while the reader receives the next
 * payload ran 1.2-1.4x and 1.27-1.46x faster on machines where writing a MiB into the image cost
 * about as much as receiving it, and 0.80-0.90x where it cost far less and the hand-off was the
 * larger cost (docs/BENCHMARKS.md, "Large writes off the reader, tried on each connection"). Short
 * trials (8 and 32 writes) chose badly: the way off the reader takes a few hundred writes to reach
 * its pace, so a trial is 160 writes each way.
 *
 * <p>A trial times {@link #TIMED} writes each way, from the header of one to the header of the
 * next (the pace the client keeps: it sends the next write when a reply comes back), after
 * {@link #SETTLE} untimed writes each (the client's queue refills after a change of way). The
 * faster way is kept for {@link #KEEP} writes, then both are tried again. A pause between two writes
 * longer than {@link #PAUSE_NANOS} starts the trial over: a client's think time is no way's cost.
 * Used by the connection's reader only.
 */
final class WritePathTrial {
    static final int SETTLE = 32;
    static final int TIMED = 128;
    static final int KEEP = 4096;
    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Off the reader costs a hand-off in CPU: kept only if this much faster (percent). */
    private static final int OFF_MARGIN_PERCENT = 3;

    private enum Phase {
        TRY_ON,
        TRY_OFF,
        KEEP
    }

    private final LongSupplier nanoClock;
    private Phase phase = Phase.TRY_ON;
    /** Writes seen in this phase. */
    private int count;

    private long timedFrom;
    private long last = Long.MIN_VALUE;
    private long onNanos;
    private boolean keepOff;

    WritePathTrial(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Whether this large write, just arrived, goes off the reader. */
    boolean offReader() {
        long now = nanoClock.getAsLong();
        if (last != Long.MIN_VALUE && now - last > PAUSE_NANOS && phase != Phase.KEEP) {
            restart();
        }
        last = now;
        if (phase == Phase.KEEP) {
            if (++count >= KEEP) {
                restart();
            }
            return keepOff;
        }
        if (count == SETTLE) {
            timedFrom = now;
        } else if (count == SETTLE + TIMED) {
            if (phase == Phase.TRY_ON) {
                onNanos = now - timedFrom;
                phase = Phase.TRY_OFF;
                count = 0;
            } else {
                long offNanos = now - timedFrom;
                keepOff = offNanos * (100 + OFF_MARGIN_PERCENT) < onNanos * 100;
                phase = Phase.KEEP;
                count = 1;
                return keepOff;
            }
        }
        count++;
        return phase == Phase.TRY_OFF;
    }

    /** The writes stopped being this connection's alone, or paused: the next ones are tried again. */
    void restart() {
        phase = Phase.TRY_ON;
        count = 0;
        last = Long.MIN_VALUE;
    }

    /** Whether the way kept is off the reader (false while trying). */
    boolean keptOff() {
        return phase == Phase.KEEP && keepOff;
    }
}
