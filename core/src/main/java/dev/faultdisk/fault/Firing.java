package dev.faultdisk.fault;

import java.util.SplittableRandom;

/**
 * A rule's decision to act on one request. Its random numbers come from the rule's seed and the
 * request's match number alone, so the same requests in the same order meet the same faults,
 * however threads interleave the draws of different requests. The random source is made on the
 * first draw: most firings (a fixed delay, an error) draw nothing, and a rule fires per request.
 * A firing belongs to one request, which hands it between threads only through queues.
 */
public final class Firing {
    private final FaultRule rule;
    private final long match;
    private final long now;
    private final long elapsed;
    private SplittableRandom random;

    /**
     * @param random the source whose first draw (the probability draw) was made, or null if none was
     */
    Firing(FaultRule rule, long match, long now, long elapsed, SplittableRandom random) {
        this.rule = rule;
        this.match = match;
        this.now = now;
        this.elapsed = elapsed;
        this.random = random;
    }

    /** The rule. */
    public FaultRule rule() {
        return rule;
    }

    /** This request is the rule's {@code match}-th matching request (1-based). */
    public long match() {
        return match;
    }

    /** When it was decided, in nanoseconds since the epoch. */
    public long now() {
        return now;
    }

    /** Nanoseconds since the rule was added. */
    public long elapsed() {
        return elapsed;
    }

    /** The draws for this request (the probability draw, if any, came first). */
    public SplittableRandom random() {
        if (random == null) {
            random = randomFor(rule.seed(), match);
        }
        return random;
    }

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
