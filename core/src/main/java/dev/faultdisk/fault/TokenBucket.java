package dev.faultdisk.fault;

/**
 * A rate limit as a virtual schedule (the generic cell rate algorithm): each unit takes
 * 1/rate seconds of the schedule, up to {@code burst} units may run ahead of it, and a request
 * beyond that waits until the schedule catches up. A request always reserves its place, so
 * waiting requests are served in arrival order and the long-run rate never exceeds the limit.
 */
final class TokenBucket {
    private final double rate;
    private final double burst;
    private final double nanosPerUnit;
    private final long tolerance;
    private long theoretical = Long.MIN_VALUE;

    TokenBucket(double unitsPerSecond, double burst) {
        this.rate = unitsPerSecond;
        this.burst = burst;
        this.nanosPerUnit = 1e9 / unitsPerSecond;
        this.tolerance = (long) (burst * nanosPerUnit);
    }

    /** Units per second, as given. */
    double rate() {
        return rate;
    }

    /** Units that may run ahead of the schedule, as given. */
    double burst() {
        return burst;
    }

    /** Reserves {@code units} at {@code now} (nanoseconds); returns how long to wait before going on. */
    synchronized long reserve(long units, long now) {
        long start = Math.max(theoretical, now);
        theoretical = start + (long) (units * nanosPerUnit);
        return Math.max(0, theoretical - tolerance - now);
    }
}
