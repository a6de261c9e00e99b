package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A torn write: only the first {@code keep-sectors} sectors of the write persist (counted from
 * the sector the write starts in; drawn from the seed when not given, always fewer than the
 * write covers), then the write fails with an errno or, with {@code result} "success", is
 * reported as done.
 */
record TornWriteFault(int sectorSize, long keepSectors, boolean success, int errno) implements Fault {
    static final FaultType TYPE = new FaultType(
            "torn-write",
            "persist only the first sectors of a write, then fail or report success",
            EnumSet.of(BlockOp.WRITE, BlockOp.WRITE_ZEROES),
            EnumSet.of(BlockOp.WRITE),
            TornWriteFault::parse);

    private static TornWriteFault parse(RuleParams p, FaultType.Context c) {
        long ss = p.size("sector-size", 512, 512, 64 * 1024);
        if (Long.bitCount(ss) != 1) {
            throw p.error("sector-size", "must be a power of two, got " + ss);
        }
        long keep = p.integer("keep-sectors", -1, 0, Integer.MAX_VALUE);
        boolean success =
                p.choice("result", "error", List.of("error", "success")).equals("success");
        return new TornWriteFault((int) ss, keep, success, p.errno("errno", Errno.EIO));
    }

    @Override
    public Stage stage() {
        return Stage.TORN;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        BlockRequest r = call.request();
        if (r.length() == 0) {
            return;
        }
        long firstSector = r.offset() / sectorSize;
        long sectors = (r.offset() + r.length() - 1) / sectorSize - firstSector + 1;
        long keep = keepSectors >= 0 ? keepSectors : firing.random().nextLong(sectors);
        long boundary = (firstSector + keep) * sectorSize;
        long keptBytes = Math.max(0, Math.min(r.length(), boundary - r.offset()));
        if (keptBytes >= r.length()) {
            return; // the write is no longer than what the rule keeps: nothing to tear
        }
        call.truncate(keptBytes);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("sector-size", sectorSize);
        details.put("kept-sectors", keep);
        details.put("sectors", sectors);
        details.put("kept-bytes", keptBytes);
        details.put("lost-offset", r.offset() + keptBytes);
        details.put("lost-bytes", r.length() - keptBytes);
        details.put("result", success ? "success" : Errno.name(errno));
        call.record(
                firing,
                "torn: persisted " + keep + " of " + sectors + " sectors, then "
                        + (success ? "reported success" : "failed with " + Errno.name(errno)),
                details);
        if (!success) {
            call.failAfterIo(new DeviceException(
                    errno,
                    "torn write: only " + keptBytes + " of " + r.length() + " bytes persisted (fault rule "
                            + firing.rule().id() + ")",
                    r.offset() + keptBytes));
        }
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sector-size", sectorSize);
        if (keepSectors >= 0) {
            m.put("keep-sectors", keepSectors);
        }
        m.put("result", success ? "success" : "error");
        m.put("errno", Errno.name(errno));
        return m;
    }
}
