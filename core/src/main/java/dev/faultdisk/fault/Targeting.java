package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Sizes;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.filemap.FileTarget;
import dev.faultdisk.wire.BlockOp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which requests a rule applies to; the same members for every fault type. A request
 * <em>matches</em> when its operation, byte range and connection fit and the rule's time window
 * is open; of the matching requests, {@code nth}, {@code after}, {@code probability} and
 * {@code times} choose the ones the rule acts on.
 *
 * @param scope        operations, byte range or file, and connection (flush always fits a range)
 * @param probability  chance that a matching request is chosen, drawn from the rule's seed
 * @param nth          only the nth matching request (1-based), or 0
 * @param after        skip the first {@code after} matching requests
 * @param times        act on at most this many requests
 * @param startNanos   the window opens this long after the rule is added
 * @param durationNanos the window stays open this long, then the rule has expired ({@link Long#MAX_VALUE}: forever)
 * @param cycleOffNanos with a cycle, the rule rests this long, then ...
 * @param cycleOnNanos ... acts this long, repeating (dm-flakey's up and down intervals); 0: no cycle
 */
public record Targeting(
        RequestScope scope,
        double probability,
        long nth,
        long after,
        long times,
        long startNanos,
        long durationNanos,
        long cycleOffNanos,
        long cycleOnNanos) {

    /** The members every rule type accepts. */
    public static final List<String> KEYS = List.of(
            "ops",
            "offset",
            "length",
            "probability",
            "nth",
            "after",
            "times",
            "start-ms",
            "duration-ms",
            "cycle-off-ms",
            "cycle-on-ms",
            "connection",
            "file",
            "file-offset",
            "file-length");

    /** Operations. */
    public Set<BlockOp> ops() {
        return scope.ops();
    }

    /** Start of the byte range. */
    public long offset() {
        return scope.offset();
    }

    /** End of the byte range (exclusive). */
    public long end() {
        return scope.end();
    }

    /** Only requests from this NBD connection, or -1. */
    public long connection() {
        return scope.connection();
    }

    /** The file (and range in it) the rule aims at instead of a byte range, or null. */
    public FileTarget file() {
        return scope.file();
    }

    static Targeting parse(RuleParams p, FaultType type, long exportSize, FileBinding files) {
        Set<BlockOp> ops = p.ops("ops", type.defaultOps(), type.ops(), type.name());
        FileTarget file = fileTarget(p, files);
        long offset = p.size("offset", 0, 0, Long.MAX_VALUE);
        if (offset >= exportSize) {
            throw p.error(
                    "offset",
                    offset + " is past the end of the export (" + exportSize + " bytes, " + Sizes.format(exportSize)
                            + ")");
        }
        long length = p.size("length", exportSize - offset, 1, Long.MAX_VALUE);
        if (length > exportSize - offset) {
            throw p.error(
                    "length",
                    "reaches past the end of the export: offset " + offset + " + length " + length + " > " + exportSize
                            + " bytes");
        }
        double probability = p.number("probability", 1.0, 0.0, 1.0);
        long nth = p.integer("nth", 0, 1, Long.MAX_VALUE);
        long after = p.integer("after", 0, 0, Long.MAX_VALUE);
        long times = p.integer("times", Long.MAX_VALUE, 0, Long.MAX_VALUE);
        long start = p.millis("start-ms", 0);
        long duration = p.has("duration-ms") ? p.millis("duration-ms", 0) : Long.MAX_VALUE;
        long off = p.millis("cycle-off-ms", 0);
        long on = p.millis("cycle-on-ms", 0);
        if ((p.has("cycle-off-ms") || p.has("cycle-on-ms")) && on == 0) {
            throw p.error("cycle-on-ms", "must be positive when a cycle is given");
        }
        long connection = p.integer("connection", -1, 0, Long.MAX_VALUE);
        return new Targeting(
                new RequestScope(ops, offset, offset + length, connection, file),
                probability,
                nth,
                after,
                times,
                start,
                duration,
                off,
                on);
    }

    /** The "file" member's target with its optional range, resolved now; null without a "file" member. */
    public static FileTarget fileTarget(RuleParams p, FileBinding files) {
        if (!p.has("file")) {
            for (String k : List.of("file-offset", "file-length")) {
                if (p.has(k)) {
                    throw p.error(k, "needs 'file'");
                }
            }
            return null;
        }
        for (String k : List.of("offset", "length")) {
            if (p.has(k)) {
                throw p.error(k, "cannot be combined with 'file' (use file-offset and file-length)");
            }
        }
        String path = p.string("file");
        long fileOffset = p.size("file-offset", 0, 0, Long.MAX_VALUE);
        long fileLength = p.has("file-length") ? p.size("file-length", 0, 1, Long.MAX_VALUE) : FileTarget.TO_END;
        if (files == null) {
            throw p.error("file", "cannot be resolved here: the export has no file map");
        }
        try {
            return files.target(path, fileOffset, fileLength);
        } catch (IllegalArgumentException e) {
            throw p.error("file", e.getMessage());
        }
    }

    /** Operation, range and connection fit. */
    boolean fits(BlockRequest r) {
        return scope.fits(r.op(), r.offset(), r.length(), r.connection());
    }

    /** The window is open {@code elapsed} nanoseconds after the rule was added. */
    boolean open(long elapsed) {
        if (elapsed < startNanos) {
            return false;
        }
        long in = elapsed - startNanos;
        if (durationNanos != Long.MAX_VALUE && in >= durationNanos) {
            return false;
        }
        if (cycleOnNanos > 0) {
            return in % (cycleOffNanos + cycleOnNanos) >= cycleOffNanos;
        }
        return true;
    }

    /** True once the window has closed for good. */
    boolean expired(long elapsed) {
        return durationNanos != Long.MAX_VALUE && elapsed - startNanos >= durationNanos;
    }

    /** The members as given (normalised), for listing. */
    Map<String, Object> describe(long exportSize) {
        Map<String, Object> m = new LinkedHashMap<>();
        scope.describeTarget(m, exportSize);
        if (probability < 1) {
            m.put("probability", probability);
        }
        if (nth > 0) {
            m.put("nth", nth);
        }
        if (after > 0) {
            m.put("after", after);
        }
        if (times != Long.MAX_VALUE) {
            m.put("times", times);
        }
        if (startNanos > 0) {
            m.put("start-ms", startNanos / 1e6);
        }
        if (durationNanos != Long.MAX_VALUE) {
            m.put("duration-ms", durationNanos / 1e6);
        }
        if (cycleOnNanos > 0) {
            m.put("cycle-off-ms", cycleOffNanos / 1e6);
            m.put("cycle-on-ms", cycleOnNanos / 1e6);
        }
        if (scope.connection() >= 0) {
            m.put("connection", scope.connection());
        }
        return m;
    }
}
