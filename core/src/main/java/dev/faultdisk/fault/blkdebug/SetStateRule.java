package dev.faultdisk.fault.blkdebug;

import java.util.Objects;

/**
 * blkdebug's {@code set-state} rule: when {@link #event()} fires in {@link #state()}, the engine
 * moves to {@link #newState()}. All rules of one event see the state from before the event; the
 * new state applies after all of them ran, and if several set-state rules match, the first one
 * defined wins.
 */
public record SetStateRule(BlkdebugEvent event, int state, int newState) implements Rule {

    public SetStateRule {
        Objects.requireNonNull(event, "set-state rule needs an event");
    }

    /** QEMU's config-file default for a missing {@code new_state}. */
    public static final int DEFAULT_NEW_STATE = 0;

    @Override
    public String typeName() {
        return "set-state";
    }

    @Override
    public String toString() {
        return "set-state(event=" + event + (state != ANY_STATE ? ", state=" + state : "") + ", new_state=" + newState
                + ")";
    }
}
