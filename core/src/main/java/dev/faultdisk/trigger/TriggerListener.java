package dev.faultdisk.trigger;

import java.util.List;

/** Hears what the trigger engine does: for QMP events and the journal. */
public interface TriggerListener {

    /** A trigger fired; called after its command actions ran, before request actions apply. */
    default void fired(TriggerFiring firing) {}

    /** Triggers were added or removed (one change). */
    default void changed(List<Long> added, List<Long> removed) {}
}
