package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A misdirected write: the data lands at another offset (the intended place keeps its old data)
 * and the write is reported as done. The place is {@code target} (a byte offset), the request's
 * offset plus {@code shift}, or drawn from the seed (sector aligned); a place where the request
 * would not fit moves back (or forward) until it fits. On a read it returns another place's data.
 */
record MisdirectedWriteFault(long target, long shift, boolean random, int sectorSize) implements Fault {
    static final FaultType TYPE = new FaultType(
            "misdirected-write",
            "persist a write at another offset (or read from one), reported as done",
            EnumSet.of(BlockOp.WRITE, BlockOp.WRITE_ZEROES, BlockOp.TRIM, BlockOp.READ),
            EnumSet.of(BlockOp.WRITE),
            MisdirectedWriteFault::parse);

    private static MisdirectedWriteFault parse(RuleParams p, FaultType.Context c) {
        if (p.has("target") && p.has("shift")) {
            throw p.error("shift", "cannot be given with target");
        }
        long target = p.size("target", -1, 0, Long.MAX_VALUE);
        if (target >= c.exportSize()) {
            throw p.error("target", target + " is past the end of the export (" + c.exportSize() + " bytes)");
        }
        long shift = p.integer("shift", 0, -c.exportSize() + 1, c.exportSize() - 1);
        if (p.has("shift") && shift == 0) {
            throw p.error("shift", "must not be 0 (the write would land where it should)");
        }
        long ss = p.size("sector-size", 512, 512, 64 * 1024);
        return new MisdirectedWriteFault(target, shift, target < 0 && shift == 0, (int) ss);
    }

    @Override
    public Stage stage() {
        return Stage.MISDIRECTED;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        BlockRequest r = call.request();
        long size = call.exportSize();
        long room = size - r.length(); // last offset where the request fits
        if (room <= 0) {
            return; // the request covers the whole export: there is nowhere else to go
        }
        long to;
        if (random) {
            to = firing.random().nextLong((room / sectorSize) + 1) * sectorSize;
        } else {
            to = target >= 0 ? target : r.offset() + shift;
            to = Math.max(0, Math.min(room, to));
        }
        if (to == r.offset()) {
            return; // clamped back onto itself: nothing to misdirect
        }
        call.redirect(to);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("intended-offset", r.offset());
        details.put("actual-offset", to);
        String what = r.op() == BlockOp.READ
                ? "read from " + to + " instead of " + r.offset()
                : "misdirected: persisted at " + to + " instead of " + r.offset();
        call.record(firing, what, details);
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (target >= 0) {
            m.put("target", target);
        } else if (shift != 0) {
            m.put("shift", shift);
        }
        m.put("sector-size", sectorSize);
        return m;
    }
}
