package dev.faultdisk.nbd;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Ways of serving one stream of work, tried in turn on the work itself and the fastest kept for a
 * while: where the faster way depends on the machine or the client, and no rule measured on one
 * machine held on another (docs/BENCHMARKS.md). Its users: which way a Unix socket's large writes
 * go ({@link LargeWriteStreams}: on the reader or off it) and when a connection's reader sends its
 * replies ({@link ReplyFlushes}: at the end of a burst of requests, or also within it, every few
 * requests or every other).
 *
 * <p>A trial is {@link #BLOCKS} blocks each way, in turn (first, second, ..., first, second, ...),
 * each some time of work untimed and then some timed ({@link Timing}): the time from one piece of
 * work's arrival to the next's (the pace the client keeps: it sends more as replies come back),
 * over the units (bytes, requests) of the pieces. Blocks of pieces rather than of time (80 and 256
 * large writes) saw two ways at the same pace where whole runs differ by 1.3x and more: a way may
 * reach its pace only after a stream has kept to it for a while. A gap between two pieces longer
 * than {@link #PAUSE_NANOS} counts for no way (a client's think time, another workload). The
 * fastest way is kept for a while, then all are tried again. The ways are in order of the CPU
 * they cost, so a later way is kept only if it is faster by the margin given than the one kept
 * before it. Not thread-safe: a trial shared by threads is called under a lock.
 */
final class PaceTrial {
    static final int BLOCKS = 2;
    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /**
     * A trial's blocks: {@code settleNanos} of work untimed, then {@code timedNanos} timed, each;
     * the way found kept {@code keepNanos}.
     */
    record Timing(long settleNanos, long timedNanos, long keepNanos) {
        /** The length of a whole trial of {@code ways} ways, pauses left out. */
        long trialNanos(int ways) {
            return (long) ways * BLOCKS * (settleNanos + timedNanos);
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
    /** A way is kept over an earlier one only if it is this much faster (percent). */
    private final int marginPercent;

    private final Timing timing;
    /** The block of the trial (its way: the block modulo the ways), or -1 while the way found is kept. */
    private int block;
    /** Working time in this block so far, pauses left out. */
    private long active;

    private long keptSince;
    private long last = Long.MIN_VALUE;
    /** The units of the last piece given by {@link #next}, whose time runs until the next piece arrives. */
    private long lastUnits;
    /** Timed nanoseconds and units of each way, by its number. */
    private final long[] nanos;

    private final long[] units;
    private int kept;

    /** A trial of {@code ways} ways (at least two), numbered from 0 in order of their cost. */
    PaceTrial(LongSupplier nanoClock, int ways, int marginPercent, Timing timing) {
        if (ways < 2) {
            throw new IllegalArgumentException("a trial needs two ways or more, not " + ways);
        }
        this.nanoClock = nanoClock;
        this.marginPercent = marginPercent;
        this.timing = timing;
        this.nanos = new long[ways];
        this.units = new long[ways];
    }

    /** The way this piece of work, of {@code size} units and just arrived, goes. */
    int next(long size) {
        long done = lastUnits;
        lastUnits = size;
        return nextAfter(done);
    }

    /**
     * The way the work from now on goes, {@code done} units of work having been done since the
     * last call (pieces counted at their end: bursts of requests).
     */
    int nextAfter(long done) {
        long now = nanoClock.getAsLong();
        long gap = last == Long.MIN_VALUE ? 0 : now - last;
        last = now;
        if (block < 0) {
            if (now - keptSince < timing.keepNanos()) {
                return kept;
            }
            restart();
            last = now;
            return 0;
        }
        int ways = nanos.length;
        if (gap > PAUSE_NANOS) {
            return block % ways; // think time: no way's cost
        }
        active += gap;
        if (active > timing.settleNanos()) {
            // The last piece's time, on this block's way (whatever part of it fell after the settling).
            long timed = Math.min(gap, active - timing.settleNanos());
            nanos[block % ways] += timed;
            units[block % ways] += gap == 0 ? 0 : Math.max(1, done * timed / gap);
        }
        if (active >= timing.settleNanos() + timing.timedNanos()) {
            active = 0;
            if (++block == ways * BLOCKS) {
                kept = fastest();
                block = -1;
                keptSince = now;
                return kept;
            }
        }
        return block % ways;
    }

    /** The way kept: a later way only if its nanoseconds a unit, with the margin, are below the one kept before it. */
    private int fastest() {
        int best = 0;
        for (int way = 1; way < nanos.length; way++) {
            if (units[best] > 0
                    && units[way] > 0
                    && nanos[way] * (100 + marginPercent) * (double) units[best]
                            < nanos[best] * 100 * (double) units[way]) {
                best = way;
            }
        }
        return best;
    }

    /** All ways are tried again, from the next piece. */
    void restart() {
        block = 0;
        active = 0;
        last = Long.MIN_VALUE; // the next piece starts the timing: no time, no units
        Arrays.fill(nanos, 0);
        Arrays.fill(units, 0);
    }

    /** Whether the ways are being tried (else one is kept). */
    boolean trying() {
        return block >= 0;
    }

    /** The way kept, or -1 while trying. */
    int kept() {
        return block < 0 ? kept : -1;
    }
}
