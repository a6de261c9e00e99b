package dev.faultdisk.fault;

import java.io.IOException;
import java.util.Map;

/**
 * What a rule does to the requests it selects: one small class per type. Faults are immutable
 * except for state that is the fault itself (bad sectors, a throttle's bucket).
 *
 * <p>Rules act in the order of their {@link #stage()}, then by rule id. A fault that must see the
 * result of the I/O (corruption on read, a disconnect in the middle of a reply, healing a rewritten
 * bad sector) registers a hook with {@link FaultCall#afterIo}; hooks run in the order they were
 * registered.
 */
public interface Fault {
    /** Where the fault acts among a request's rules, and whether it may hold the request. */
    Stage stage();

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
