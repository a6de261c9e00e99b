package dev.faultdisk.fault;

import java.util.SplittableRandom;

/**
 * A rule's decision to act on one request. Its random numbers come from the rule's seed and the
 * request's match number alone, so the same requests in the same order meet the same faults,
 * however threads interleave the draws of different requests.
 *
 * @param rule    the rule
 * @param match   this request is the rule's {@code match}-th matching request (1-based)
 * @param now     when it was decided, in nanoseconds since the epoch
 * @param elapsed nanoseconds since the rule was added
 * @param random  the draws for this request (the probability draw, if any, came first)
 */
public record Firing(FaultRule rule, long match, long now, long elapsed, SplittableRandom random) {

    /** The random source of match {@code match} of a rule seeded {@code seed}. */
    static SplittableRandom randomFor(long seed, long match) {
        return new SplittableRandom(mix(seed ^ mix(match + 0x632BE59BD9B4E019L)));
    }

    /** Stafford's variant 13 of the 64-bit finaliser: distinct inputs give well-spread outputs. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
