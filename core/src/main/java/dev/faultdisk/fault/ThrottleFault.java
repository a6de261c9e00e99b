package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Limits bytes per second and operations per second for the requests its rule targets: one
 * rule throttles the whole export (all connections) for its operations; a rule per operation
 * gives each its own limit. Requests within the burst pass at once; the rest wait their turn.
 */
final class ThrottleFault implements Fault {
    static final FaultType TYPE = new FaultType(
            "throttle",
            "limit bytes per second and operations per second",
            BlockOp.ALL,
            BlockOp.ALL,
            ThrottleFault::parse);

    /** Each limit's bucket, or null where the rule sets no such limit. */
    private final TokenBucket bytes;

    private final TokenBucket ops;

    private ThrottleFault(TokenBucket bytes, TokenBucket ops) {
        this.bytes = bytes;
        this.ops = ops;
    }

    private static ThrottleFault parse(RuleParams p, FaultType.Context c) {
        long bps = p.size("bytes-per-second", 0, 1, Long.MAX_VALUE);
        double ops = p.number("ops-per-second", 0, 0, 1e9);
        if (bps == 0 && ops == 0) {
            throw new FaultRuleException(p.path() + " needs bytes-per-second or ops-per-second (or both)");
        }
        if (p.has("ops-per-second") && ops == 0) {
            throw p.error("ops-per-second", "must be positive");
        }
        long burstBytes = p.size("burst-bytes", Math.max(1, bps / 10), 0, Long.MAX_VALUE);
        double burstOps = p.number("burst-ops", Math.max(1, Math.floor(ops / 10)), 0, 1e9);
        return new ThrottleFault(
                bps > 0 ? new TokenBucket(bps, burstBytes) : null, ops > 0 ? new TokenBucket(ops, burstOps) : null);
    }

    @Override
    public Stage stage() {
        return Stage.THROTTLE;
    }

    @Override
    public void apply(FaultCall call, Firing firing) throws IOException {
        long now = call.now();
        long wait = 0;
        if (bytes != null && call.request().length() > 0) {
            wait = bytes.reserve(call.request().length(), now);
        }
        if (ops != null) {
            wait = Math.max(wait, ops.reserve(1, now));
        }
        if (wait <= 0) {
            return;
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("delay-ms", wait / 1e6);
        call.record(firing, "throttled " + DelayFault.millis(wait) + " ms", details);
        call.waitFor(wait);
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (bytes != null) {
            m.put("bytes-per-second", (long) bytes.rate());
            m.put("burst-bytes", (long) bytes.burst());
        }
        if (ops != null) {
            m.put("ops-per-second", ops.rate());
            m.put("burst-ops", ops.burst());
        }
        return m;
    }
}
