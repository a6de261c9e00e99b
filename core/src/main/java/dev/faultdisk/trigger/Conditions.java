package dev.faultdisk.trigger;

import dev.faultdisk.fault.RequestScope;
import dev.faultdisk.fault.RuleParams;
import dev.faultdisk.fault.Targeting;
import dev.faultdisk.fault.blkdebug.BlkdebugEvent;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.filemap.FileTarget;
import dev.faultdisk.wire.BlockOp;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;

/** Reads conditions from JSON-like maps; errors name the member by its path. */
final class Conditions {
    /** Nesting and width bounds: a condition is a small tree, not a program. */
    static final int MAX_PARTS = 64;

    static final int MAX_DEPTH = 8;

    private static Condition.Combinator combinatorIn(RuleParams p) {
        for (Condition.Combinator c : Condition.Combinator.values()) {
            if (p.has(c.wireName())) {
                return c;
            }
        }
        return null;
    }

    private Conditions() {}

    /**
     * Parses the condition at {@code p}; {@code exportSize} gives the size of a named export or
     * empty if there is no such export.
     */
    static Condition parse(
            RuleParams p, Function<String, OptionalLong> exportSize, Function<String, FileBinding> files) {
        return parse(p, exportSize, files, 1);
    }

    private static Condition parse(
            RuleParams p, Function<String, OptionalLong> exportSize, Function<String, FileBinding> files, int depth) {
        Condition.Combinator combinator = combinatorIn(p);
        if (combinator != null) {
            return combinator(p, combinator, exportSize, files, depth);
        }
        if (p.has("event")) {
            return event(p, exportSize);
        }
        return requests(p, exportSize, files);
    }

    private static Condition combinator(
            RuleParams p,
            Condition.Combinator combinator,
            Function<String, OptionalLong> exportSize,
            Function<String, FileBinding> files,
            int depth) {
        String key = combinator.wireName();
        if (depth >= MAX_DEPTH) {
            throw p.error(key, "nests deeper than " + MAX_DEPTH + " levels");
        }
        List<?> raw = p.list(key);
        if (raw.isEmpty() || raw.size() > MAX_PARTS) {
            throw p.error(key, "must list 1 to " + MAX_PARTS + " conditions");
        }
        List<Condition> parts = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            parts.add(parse(RuleParams.of(raw.get(i), p.name(key) + "[" + i + "]"), exportSize, files, depth + 1));
        }
        p.rejectUnused("a condition with " + key);
        return new Condition.Combined(combinator, List.copyOf(parts));
    }

    private static Condition requests(
            RuleParams p, Function<String, OptionalLong> exportSize, Function<String, FileBinding> files) {
        String export = p.has("device") ? p.string("device") : null;
        long size = export == null ? Long.MAX_VALUE : size(p, export, exportSize);
        Set<BlockOp> ops = ops(p);
        long offset = p.size("offset", 0, 0, Long.MAX_VALUE);
        if (export != null && offset >= size) {
            throw p.error("offset", offset + " is past the end of export '" + export + "' (" + size + " bytes)");
        }
        long end = Long.MAX_VALUE;
        if (p.has("length")) {
            long length = p.size("length", 0, 1, Long.MAX_VALUE);
            if (length > size - offset) {
                throw p.error("length", "reaches past the end of export '" + export + "'");
            }
            end = offset + length > offset ? offset + length : Long.MAX_VALUE;
        } else if (export != null) {
            end = size;
        }
        if (export != null && offset == 0 && end == size) {
            end = Long.MAX_VALUE; // the whole export: no range check per request
        }
        long connection = p.integer("connection", -1, 0, Long.MAX_VALUE);
        FileTarget file = null;
        if (p.has("file")) {
            if (export == null) {
                throw p.error("file", "needs 'device': the export the file's file system is mounted from");
            }
            file = Targeting.fileTarget(p, files.apply(export));
        }
        Count count = count(p);
        p.rejectUnused("a request condition");
        return new Condition.Requests(export, new RequestScope(ops, offset, end, connection, file), count);
    }

    private static Set<BlockOp> ops(RuleParams p) {
        if (!p.has("ops")) {
            return BlockOp.ALL;
        }
        Set<BlockOp> ops = EnumSet.noneOf(BlockOp.class);
        for (String name : p.strings("ops")) {
            ops.add(BlockOp.byName(name)
                    .orElseThrow(() -> p.error(
                            "ops",
                            "names an unknown operation '" + name
                                    + "' (read, write, flush, trim, write-zeroes, block-status)")));
        }
        if (ops.isEmpty()) {
            throw p.error("ops", "must name at least one operation");
        }
        return ops;
    }

    private static Condition event(RuleParams p, Function<String, OptionalLong> exportSize) {
        String name = p.string("event");
        Observation.Kind kind = null;
        for (Observation.Kind k : Observation.Kind.values()) {
            if (k != Observation.Kind.REQUEST && k.wireName().equals(name)) {
                kind = k;
            }
        }
        if (kind == null) {
            throw p.error(
                    "event",
                    "names an unknown event '" + name
                            + "' (blkdebug-event, fault-fired, breakpoint-hit, flush-done, power-cut)");
        }
        String export = p.has("device") ? p.string("device") : null;
        if (export != null) {
            size(p, export, exportSize);
        }
        String detail = null;
        String key = detailKey(kind);
        if (key != null && p.has(key)) {
            detail = switch (kind) {
                case BLKDEBUG_EVENT -> {
                    String event = p.string(key);
                    yield BlkdebugEvent.byName(event)
                            .orElseThrow(() -> p.error(key, "is not a blkdebug event: '" + event + "'"))
                            .qapiName();
                }
                case FAULT_FIRED -> Long.toString(p.integer(key, 0, 1, Long.MAX_VALUE));
                default -> p.string(key);
            };
        }
        Count count = count(p);
        p.rejectUnused("a " + name + " condition");
        return new Condition.Event(kind, export, detail, count);
    }

    /** The member naming an event's detail, or null if the kind has none. */
    static String detailKey(Observation.Kind kind) {
        return switch (kind) {
            case BLKDEBUG_EVENT -> "name";
            case FAULT_FIRED -> "rule";
            case BREAKPOINT_HIT -> "tag";
            default -> null;
        };
    }

    private static Count count(RuleParams p) {
        int given = (p.has("nth") ? 1 : 0) + (p.has("after") ? 1 : 0) + (p.has("every") ? 1 : 0);
        if (given > 1) {
            throw p.error(
                    p.has("nth") ? "nth" : "after",
                    "can not be combined with " + (p.has("every") ? "every" : "after")
                            + ": give one of nth, after, every");
        }
        long nth = p.integer("nth", 0, 1, Long.MAX_VALUE);
        long after = p.integer("after", 0, 0, Long.MAX_VALUE);
        long every = p.integer("every", 0, 1, Long.MAX_VALUE);
        return given == 0 ? Count.ANY : new Count(nth, after, every);
    }

    private static long size(RuleParams p, String export, Function<String, OptionalLong> exportSize) {
        return exportSize.apply(export).orElseThrow(() -> p.error("device", "names no export: '" + export + "'"));
    }

    static List<Map<String, Object>> describeAll(List<Condition> parts) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Condition c : parts) {
            out.add(c.describe());
        }
        return out;
    }
}
