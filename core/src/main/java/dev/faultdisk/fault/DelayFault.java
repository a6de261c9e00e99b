package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Map;

/**
 * Delays the request before its I/O: fixed, jittered, heavy-tailed, ramping or stalling
 * ({@link DelayModel}). It asks for the wait ({@link FaultCall#waitFor}); the fault layer serves
 * it on the fault clock, with a timer for a submitted request (no thread waits) or by sleeping on
 * the request's own virtual thread.
 */
record DelayFault(DelayModel model) implements TimedFault {
    static final FaultType TYPE = new FaultType(
            "delay",
            "delay the request: fixed, jitter, log-normal or Pareto with a p99, ramp, periodic stalls",
            BlockOp.ALL,
            BlockOp.ALL,
            (p, c) -> new DelayFault(DelayModel.parse(p)));

    @Override
    public int order() {
        return DELAY;
    }

    @Override
    public void apply(FaultCall call, Firing firing) throws IOException {
        long nanos = model.sample(firing);
        if (nanos <= 0) {
            return;
        }
        call.record(firing, action(nanos), Map.of("delay-ms", nanos / 1e6));
        call.waitFor(nanos);
    }

    /** The last delay's action text: a fixed delay's is the same each time, so it is built once. */
    private static volatile Action last = new Action(0, "");

    private record Action(long nanos, String text) {}

    private static String action(long nanos) {
        Action a = last;
        if (a.nanos != nanos) {
            a = new Action(nanos, "delayed " + millis(nanos) + " ms");
            last = a;
        }
        return a.text;
    }

    /** {@code nanos} as milliseconds with three decimals, without the cost of a formatter. */
    static String millis(long nanos) {
        long micros = nanos / 1000;
        String frac = Long.toString(1000 + micros % 1000).substring(1);
        return micros / 1000 + "." + frac;
    }

    /** Sleeps until {@code nanos} after the call's time, on the fault clock. */
    static void sleep(FaultCall call, long nanos) throws IOException {
        try {
            call.engine().sleepUntil(java.time.Instant.ofEpochSecond(0, call.now() + nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during an injected delay");
        }
    }

    @Override
    public Map<String, Object> parameters() {
        return model.describe();
    }
}
