package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Collections;
import java.util.Map;

/**
 * Delays the request before its I/O: fixed, jittered, heavy-tailed, ramping or stalling
 * ({@link DelayModel}). It asks for the wait ({@link FaultCall#waitFor}); the fault layer serves
 * it on the fault clock, with a timer for a submitted request (no thread waits) or by sleeping on
 * the request's own virtual thread.
 */
record DelayFault(DelayModel model) implements Fault {
    static final FaultType TYPE = new FaultType(
            "delay",
            "delay the request: fixed, jitter, log-normal or Pareto with a p99, ramp, periodic stalls",
            BlockOp.ALL,
            BlockOp.ALL,
            (p, c) -> new DelayFault(DelayModel.parse(p)));

    @Override
    public Stage stage() {
        return Stage.DELAY;
    }

    @Override
    public void apply(FaultCall call, Firing firing) throws IOException {
        long nanos = model.sample(firing);
        if (nanos <= 0) {
            return;
        }
        Action a = action(nanos);
        call.record(firing, a.text, a.details);
        call.waitFor(nanos);
    }

    /**
     * The last delay's action text and details: a fixed delay's are the same each time, so they are
     * built once. Each delayed request is journaled, and the journal's last entries are alive at
     * every young collection: fewer objects per entry is less to copy in each pause.
     */
    private static volatile Action last = new Action(0, "", Map.of());

    /** The details are unmodifiable already, so the fault record keeps this very map. */
    private record Action(long nanos, String text, Map<String, Object> details) {}

    private static Action action(long nanos) {
        Action a = last;
        if (a.nanos != nanos) {
            a = new Action(
                    nanos,
                    "delayed " + millis(nanos) + " ms",
                    Collections.unmodifiableMap(Map.of("delay-ms", nanos / 1e6)));
            last = a;
        }
        return a;
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
