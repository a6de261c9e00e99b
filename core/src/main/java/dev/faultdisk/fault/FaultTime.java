package dev.faultdisk.fault;

import java.time.InstantSource;

/**
 * The clock fault rules read (time windows, ramps, stalls, throttles, expiries, journal times)
 * and the sleeper they wait with. Both must agree: tests pass a {@link VirtualTime} for both.
 */
public record FaultTime(InstantSource clock, Sleeper sleeper) {

    public static FaultTime system() {
        InstantSource clock = InstantSource.system();
        return new FaultTime(clock, Sleeper.system(clock));
    }

    /** Nanoseconds since the epoch: what rules compute with. */
    public long nanos() {
        java.time.Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
