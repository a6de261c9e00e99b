package dev.faultdisk.nbd;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Two ways of serving one stream of work, tried in turn on the work itself and the faster kept
 * for a while: where the faster way depends on the machine or the client, and no rule measured
 * on one machine held on another (docs/BENCHMARKS.md). Its users: which way a Unix socket's large
 * writes go ({@link LargeWriteStreams}: on the reader or off it) and when a connection's reader
 * sends its replies ({@link ReplyFlushes}: at the end of a burst of requests or also within it).
 *
 * <p>A trial is {@link #BLOCKS} blocks each way, alternating (first, second, first, second), each
 * some time of work untimed and then some timed ({@link Timing}): the time from one
 * piece of work's arrival to the next's (the pace the client keeps: it sends more as replies come
 * back), over the units (bytes, requests) of the pieces. Blocks of pieces rather than of time (80
 * and 256 large writes) saw two ways at the same pace where whole runs differ by 1.3x and more: a
 * way may reach its pace only after a stream has kept to it for a while. A gap between two pieces
 * longer than {@link #PAUSE_NANOS} counts for neither way (a client's think time, another
 * workload). The faster way is kept for a while, then both are tried again; the second
 * way only if it is faster by the margin given, as it is the one that costs more CPU. Not
 * thread-safe: a trial shared by threads is called under a lock.
 */
final class PaceTrial {
    static final int BLOCKS = 2;
    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /**
     * A trial's blocks: {@code settleNanos} of work untimed, then {@code timedNanos} timed, each;
     * the way found kept {@code keepNanos}.
     */
    record Timing(long settleNanos, long timedNanos, long keepNanos) {
        /** The length of a whole trial, pauses left out. */
        long trialNanos() {
            return 2 * BLOCKS * (settleNanos + timedNanos);
        }
    }

    /**
     * The way a setting of {@code try}, {@code true} or {@code false} names (case and spaces
     * ignored), for the users' switches ({@code property} names it in the refusal of anything else).
     */
    static <W> W way(String property, String setting, W tried, W asTrue, W asFalse) {
        return switch (setting.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> asTrue;
            case "false" -> asFalse;
            case "try" -> tried;
            default -> throw new IllegalArgumentException(property + " is try, true or false, not '" + setting + "'");
        };
    }

    private final LongSupplier nanoClock;
    /** The second way is kept only if it is this much faster (percent). */
    private final int marginPercent;

    private final Timing timing;
    /** The block of the trial (even: the first way, odd: the second), or -1 while the way found is kept. */
    private int block;
    /** Working time in this block so far, pauses left out. */
    private long active;

    private long keptSince;
    private long last = Long.MIN_VALUE;
    /** The units of the last piece given by {@link #second}, whose time runs until the next piece arrives. */
    private long lastUnits;
    /** Timed nanoseconds and units of each way: [0] the first, [1] the second. */
    private final long[] nanos = new long[2];

    private final long[] units = new long[2];
    private boolean keepSecond;

    PaceTrial(LongSupplier nanoClock, int marginPercent, Timing timing) {
        this.nanoClock = nanoClock;
        this.marginPercent = marginPercent;
        this.timing = timing;
    }

    /** Whether this piece of work, of {@code size} units and just arrived, goes the second way. */
    boolean second(long size) {
        long done = lastUnits;
        lastUnits = size;
        return nextSecond(done);
    }

    /**
     * Whether the work from now on goes the second way, {@code done} units of work having been done
     * since the last call (pieces counted at their end: bursts of requests).
     */
    boolean nextSecond(long done) {
        long now = nanoClock.getAsLong();
        long gap = last == Long.MIN_VALUE ? 0 : now - last;
        last = now;
        if (block < 0) {
            if (now - keptSince < timing.keepNanos()) {
                return keepSecond;
            }
            restart();
            last = now;
            return false;
        }
        if (gap > PAUSE_NANOS) {
            return block % 2 == 1; // think time: no way's cost
        }
        active += gap;
        if (active > timing.settleNanos()) {
            // The last piece's time, on this block's way (whatever part of it fell after the settling).
            long timed = Math.min(gap, active - timing.settleNanos());
            nanos[block % 2] += timed;
            units[block % 2] += gap == 0 ? 0 : Math.max(1, done * timed / gap);
        }
        if (active >= timing.settleNanos() + timing.timedNanos()) {
            active = 0;
            if (++block == 2 * BLOCKS) {
                // nanoseconds a unit the second way, with the margin, below those the first way
                keepSecond = units[0] > 0
                        && units[1] > 0
                        && nanos[1] * (100 + marginPercent) * (double) units[0] < nanos[0] * 100 * (double) units[1];
                block = -1;
                keptSince = now;
                return keepSecond;
            }
        }
        return block % 2 == 1;
    }

    /** Both ways are tried again, from the next piece. */
    void restart() {
        block = 0;
        active = 0;
        last = Long.MIN_VALUE; // the next piece starts the timing: no time, no units
        nanos[0] = nanos[1] = 0;
        units[0] = units[1] = 0;
    }

    /** Whether both ways are being tried (else one is kept). */
    boolean trying() {
        return block >= 0;
    }

    /** Whether the way kept is the second (false while trying). */
    boolean keptSecond() {
        return block < 0 && keepSecond;
    }
}
