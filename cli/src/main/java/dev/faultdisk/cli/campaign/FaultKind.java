package dev.faultdisk.cli.campaign;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The faults a campaign injects, one per run, as the fault rule each becomes (docs/faults/).
 * Read faults act on every read of the target during the run (a bad block stays bad, as the 2017
 * study's errfs made it); write faults act on the first write to the target only; the slow block
 * delays every access.
 */
public enum FaultKind implements WireNamed {
    READ_ERROR("read EIO"),
    WRITE_ERROR("write EIO"),
    WRITE_ENOSPC("write ENOSPC"),
    READ_ZEROS("read zeros"),
    READ_JUNK("read junk"),
    READ_BITFLIP("read bit flip"),
    LOST_WRITE("lost write"),
    TORN_WRITE("torn write"),
    SLOW("slow block");

    private final String title;

    FaultKind(String title) {
        this.title = title;
    }

    /** The column heading of the report's table. */
    public String title() {
        return title;
    }

    public static Optional<FaultKind> byName(String name) {
        return WireNamed.byName(values(), name);
    }

    public static List<String> names() {
        return WireNamed.names(values());
    }

    /** True if the fault acts on writes (so only targets the node writes are worth a run). */
    public boolean onWrites() {
        return this == WRITE_ERROR || this == WRITE_ENOSPC || this == LOST_WRITE || this == TORN_WRITE;
    }

    /** The fault rule aimed at {@code target} (a {@code file} member and range, or offset/length). */
    public Map<String, Object> rule(Map<String, Object> target, long seed, long slowMs) {
        Map<String, Object> r = new LinkedHashMap<>();
        switch (this) {
            case READ_ERROR -> put(r, "error", "read").put("errno", "EIO");
            case WRITE_ERROR -> put(r, "error", "write").put("errno", "EIO");
            case WRITE_ENOSPC -> put(r, "error", "write").put("errno", "ENOSPC");
            case READ_ZEROS -> put(r, "corrupt", "read").put("mode", "zero");
            case READ_JUNK -> put(r, "corrupt", "read").put("mode", "garbage");
            case READ_BITFLIP -> put(r, "corrupt", "read").put("mode", "flip");
            case LOST_WRITE -> put(r, "lost-write", "write");
            case TORN_WRITE -> put(r, "torn-write", "write").put("result", "success");
            case SLOW -> put(r, "delay", "read").put("ops", List.of("read", "write"));
        }
        if (this == READ_ZEROS || this == READ_JUNK) {
            r.put("bytes", 4096);
        }
        if (this == SLOW) {
            r.put("ms", slowMs);
        }
        if (onWrites()) {
            r.put("times", 1);
        }
        r.putAll(target);
        r.put("seed", seed);
        r.put("label", "campaign " + wireName());
        return r;
    }

    private static Map<String, Object> put(Map<String, Object> r, String type, String op) {
        r.put("type", type);
        r.put("ops", List.of(op));
        return r;
    }
}
