package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import java.util.EnumSet;
import java.util.Map;

/** Acknowledges the write and never persists it: a lost write. Also for trim and write-zeroes. */
record LostWriteFault() implements Fault {
    static final FaultType TYPE = new FaultType(
            "lost-write",
            "acknowledge a write that is never persisted",
            BlockOp.CHANGES,
            EnumSet.of(BlockOp.WRITE),
            (p, c) -> new LostWriteFault());

    @Override
    public Stage stage() {
        return Stage.LOST;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        call.skipIo();
        call.record(firing, "lost: acknowledged, not persisted", Map.of());
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of();
    }
}
