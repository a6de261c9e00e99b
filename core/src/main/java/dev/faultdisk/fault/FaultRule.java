package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One rule in an export's rule set: targeting plus a fault, with its seed and counters. The
 * definition is immutable; the counters (matched, chosen, fired) are the rule's run-time state.
 */
public final class FaultRule {
    private final long id;
    private final String label;
    private final FaultType type;
    private final Fault fault;
    private final Targeting targeting;
    private final long seed;
    private final boolean events;
    private final long exportSize;
    private volatile long addedNanos;
    private volatile Instant added;
    private final AtomicLong matched = new AtomicLong();
    private final AtomicLong chosen = new AtomicLong();
    private final AtomicLong fired = new AtomicLong();

    FaultRule(
            long id,
            String label,
            FaultType type,
            Fault fault,
            Targeting targeting,
            long seed,
            boolean events,
            long exportSize) {
        this.id = id;
        this.label = label;
        this.type = type;
        this.fault = fault;
        this.targeting = targeting;
        this.seed = seed;
        this.events = events;
        this.exportSize = exportSize;
    }

    /** Starts the rule's clock: windows, ramps and stalls count from here. */
    void activate(FaultTime time) {
        added = time.clock().instant();
        addedNanos = added.getEpochSecond() * 1_000_000_000L + added.getNano();
    }

    /**
     * Decides whether the rule acts on {@code r} at {@code now}, counting the match. Returns the
     * firing, or null.
     */
    Firing select(BlockRequest r, long now) {
        if (!targeting.fits(r)) {
            return null;
        }
        long elapsed = now - addedNanos;
        if (!targeting.open(elapsed)) {
            return null;
        }
        long m = matched.incrementAndGet();
        if (targeting.nth() > 0 && m != targeting.nth()) {
            return null;
        }
        if (m <= targeting.after()) {
            return null;
        }
        SplittableRandom random = null; // made here only for the probability draw, else on first use
        if (targeting.probability() < 1) {
            random = Firing.randomFor(seed, m);
            if (!(random.nextDouble() < targeting.probability())) {
                return null;
            }
        }
        long c;
        do {
            c = chosen.get();
            if (c >= targeting.times()) {
                return null;
            }
        } while (!chosen.compareAndSet(c, c + 1));
        return new Firing(this, m, now, elapsed, random);
    }

    void countFired() {
        fired.incrementAndGet();
    }

    public long id() {
        return id;
    }

    /** A name given by the user or a preset, or "". */
    public String label() {
        return label;
    }

    public FaultType type() {
        return type;
    }

    public Fault fault() {
        return fault;
    }

    public Targeting targeting() {
        return targeting;
    }

    public long seed() {
        return seed;
    }

    /** True if each firing is announced as a QMP event (it is journaled either way). */
    public boolean events() {
        return events;
    }

    public Instant added() {
        return added;
    }

    /** Requests that matched operation, range, connection and time window. */
    public long matched() {
        return matched.get();
    }

    /** Requests the rule chose to act on. */
    public long chosen() {
        return chosen.get();
    }

    /** Faults the rule injected (each one journaled). */
    public long fired() {
        return fired.get();
    }

    /** "waiting" (window not open yet), "active", "expired" (window closed) or "exhausted" (times reached). */
    public String state(FaultTime time) {
        long elapsed = time.nanos() - addedNanos;
        if (targeting.expired(elapsed)) {
            return "expired";
        }
        if (chosen.get() >= targeting.times() || (targeting.nth() > 0 && matched.get() >= targeting.nth())) {
            return "exhausted";
        }
        return elapsed < targeting.startNanos() ? "waiting" : "active";
    }

    /** The rule as accepted: what fault-add would take to make it again (with its seed). */
    public Map<String, Object> definition() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type.name());
        if (!label.isEmpty()) {
            m.put("label", label);
        }
        m.putAll(targeting.describe(exportSize));
        m.putAll(fault.parameters());
        m.put("seed", seed);
        if (!events) {
            m.put("events", false);
        }
        return m;
    }

    @Override
    public String toString() {
        return "rule " + id + " " + definition();
    }
}
