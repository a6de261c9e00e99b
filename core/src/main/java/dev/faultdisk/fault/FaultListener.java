package dev.faultdisk.fault;

import java.util.List;

/** Hears what an export's fault engine does: for QMP events and the journal. Called on the request's thread. */
public interface FaultListener {

    /** A rule injected a fault. */
    default void injected(FaultRecord record) {}

    /** Rules were added to or removed from an export's rule set (one atomic change). */
    default void rulesChanged(String export, List<FaultRule> added, List<FaultRule> removed) {}

    /**
     * A held request left the hold: {@code how} is "released" (it runs), "failed" (with
     * {@code errno}) or "expired" (its hang rule's timeout, after which it runs or fails).
     */
    default void released(HeldRequest request, String how, int errno) {}
}
