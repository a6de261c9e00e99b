package dev.faultdisk.fault;

import java.io.IOException;
import java.util.Map;

/**
 * What a rule does to the requests it selects: one small class per type. Faults are immutable
 * except for state that is the fault itself (bad sectors, a throttle's bucket).
 *
 * <p>Rules act in the order of {@link #order()}, then by rule id; the constants below are that
 * documented order. A fault that must see the result of the I/O (corruption on read, a
 * disconnect in the middle of a reply, healing a rewritten bad sector) registers a hook with
 * {@link FaultCall#afterIo}; hooks run in the order they were registered.
 */
public interface Fault {
    int DISCONNECT = 10;
    int HANG = 20;
    int THROTTLE = 30;
    int DELAY = 40;
    int ERROR = 50;
    int BAD_SECTOR = 60;
    int CORRUPT = 70;
    int MISDIRECTED = 80;
    int TORN = 90;
    int LOST = 100;
    int DISCONNECT_MID_REPLY = 110;

    /** Where the fault acts in the order above. */
    int order();

    /** True if it may hold the request's thread for long (delay, hang, throttle). */
    default boolean blocks() {
        return false;
    }

    /**
     * True if the only wait it makes is for a time it computes ({@link FaultCall#waitFor}: delay,
     * throttle): a submitted request then waits on a timer, holding no thread.
     */
    default boolean timed() {
        return false;
    }

    /**
     * Acts on a request its rule selected: changes {@code call} (fail it, skip or redirect its I/O,
     * alter its data, register hooks) and records what it did with {@link FaultCall#record}.
     */
    void apply(FaultCall call, Firing firing) throws IOException;

    /** The type's own parameters, normalised, for listing and the journal. */
    Map<String, Object> parameters();

    /** Run-time state worth listing (the bad sectors now), or nothing. */
    default Map<String, Object> state() {
        return Map.of();
    }
}
