package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.DEVICE;
import static dev.faultdisk.server.BlockCommands.ONE_EXPORT;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultEngine;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.fault.FaultListener;
import dev.faultdisk.fault.FaultRecord;
import dev.faultdisk.fault.FaultRule;
import dev.faultdisk.fault.FaultType;
import dev.faultdisk.fault.FaultTypes;
import dev.faultdisk.fault.HeldRequest;
import dev.faultdisk.fault.Presets;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The fault commands: add, remove and list rules, presets, held requests and their release, the
 * journal; plus the events FAULT_INJECTED and FAULT_RELEASED. Rules are parsed by the engine
 * (docs/faults/ describes each type); a bad rule is a GenericError naming the member and
 * nothing of the call is applied.
 */
final class FaultCommands {
    private static final int JOURNAL_LIMIT = 10_000;

    private FaultCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports, FaultJournal journal) {
        commands.register(QmpCommand.builder("fault-add")
                .doc("Adds fault rules to an export in one atomic change: a request sees all of them or none. "
                        + "Each rule has a \"type\" (" + String.join(", ", FaultTypes.names()) + "), the type's "
                        + "parameters, and any of the targeting members every type shares: ops, offset, length, "
                        + "probability, seed, nth, after, times, start-ms, duration-ms, cycle-off-ms, cycle-on-ms, "
                        + "connection; plus label and events (false: journal only, no FAULT_INJECTED). "
                        + "docs/faults/ describes every type. On any error (an unknown type or operation, a negative "
                        + "size, a probability outside 0..1, a range past the export's end) nothing is added and the "
                        + "error names the member, e.g. rules[1].probability.")
                .argument(DEVICE)
                .requiredList("rules", "FaultRule", "the rules to add")
                .returns("{\"ids\": [int]}")
                .example(
                        "-> {\"execute\": \"fault-add\", \"arguments\": {\"device\": \"disk0\", \"rules\": ["
                                + "{\"type\": \"delay\", \"ops\": [\"read\"], \"ms\": 10}, "
                                + "{\"type\": \"error\", \"ops\": [\"flush\"], \"errno\": \"EIO\", \"probability\": 0.1, \"seed\": 7}]}}")
                .example("<- {\"return\": {\"ids\": [1, 2]}}")
                .handler(args -> {
                    FaultEngine engine = BlockCommands.export(exports, args).faults();
                    List<FaultRule> added = parsed(() -> engine.add(args.list("rules"), "rules"));
                    return Map.of("ids", ids(added));
                })
                .build());
        commands.register(QmpCommand.builder("fault-preset")
                .doc("""
                        Adds the rules of a named profile (ordinary rules labelled with the preset's name): limping-disk
                        (median-ms, p99-ms, bytes-per-second, ops), dying-disk (bad-sectors, grow-probability,
                        error-probability, slow-to-ms, over-ms), flaky-disk (up-ms, down-ms, mode: error, error-reads,
                        error-writes, drop-writes, corrupt-reads). All take seed, offset, length and label.
                        docs/faults/presets.md has the details.""")
                .argument(DEVICE)
                .argument(Argument.enumeration("preset", false, "the profile", Presets.NAMES))
                .optional("params", ArgType.OBJECT, "the profile's parameters")
                .returns("{\"ids\": [int]}")
                .example("-> {\"execute\": \"fault-preset\", \"arguments\": {\"device\": \"disk0\", "
                        + "\"preset\": \"flaky-disk\", \"params\": {\"up-ms\": 5000, \"down-ms\": 1000}}}")
                .example("<- {\"return\": {\"ids\": [3]}}")
                .handler(args -> {
                    FaultEngine engine = BlockCommands.export(exports, args).faults();
                    @SuppressWarnings("unchecked")
                    Map<String, ?> params =
                            args.has("params") ? (Map<String, ?>) args.asMap().get("params") : Map.of();
                    List<FaultRule> added = parsed(() -> engine.addPreset(args.string("preset"), params, "params"));
                    return Map.of("ids", ids(added));
                })
                .build());
        commands.register(QmpCommand.builder("fault-remove")
                .doc("""
                        Removes fault rules by id in one atomic change; requests their hang rules hold run. An unknown
                        id fails the call and removes nothing.""")
                .argument(DEVICE)
                .requiredList("ids", "int", "rule ids")
                .handler(args -> {
                    FaultEngine engine = BlockCommands.export(exports, args).faults();
                    List<Long> ids = args.integers("ids");
                    parsed(() -> engine.remove(ids));
                    return null;
                })
                .build());
        commands.register(QmpCommand.builder("fault-clear")
                .doc("Removes every fault rule of an export in one change; requests held by its hang rules run.")
                .argument(DEVICE)
                .returns("{\"removed\": int}")
                .handler(args -> Map.of(
                        "removed",
                        BlockCommands.export(exports, args).faults().clear().size()))
                .build());
        commands.register(QmpCommand.builder("query-faults")
                .doc("""
                        Fault rules (of one export or all), with their definition as accepted (seed included), their
                        state (waiting, active, expired, exhausted), how many requests matched them, how many they chose
                        and how many faults they injected (fired).""")
                .argument(ONE_EXPORT)
                .returns("[{\"device\": str, \"id\": int, \"type\": str, \"state\": str, \"matched\": int, "
                        + "\"chosen\": int, \"fired\": int, \"added\": str, \"rule\": FaultRule, \"status\"?: object}]")
                .example("-> {\"execute\": \"query-faults\", \"arguments\": {\"device\": \"disk0\"}}")
                .example(
                        "<- {\"return\": [{\"device\": \"disk0\", \"id\": 1, \"type\": \"delay\", \"state\": \"active\", "
                                + "\"matched\": 120, \"chosen\": 120, \"fired\": 120, \"added\": \"...\", \"rule\": {\"type\": \"delay\", "
                                + "\"ops\": [\"read\"], \"distribution\": \"fixed\", \"ms\": 10.0, \"seed\": -4411...}}]}")
                .handler(args -> perExport(
                        exports,
                        args,
                        e -> e.faults().rules().stream()
                                .map(r -> describe(e, r))
                                .toList()))
                .build());
        commands.register(QmpCommand.builder("query-held-requests")
                .doc("Requests hang rules hold now (of one export or all), oldest first.")
                .argument(ONE_EXPORT)
                .returns("[{\"device\": str, \"id\": int, \"rule\": int, \"operation\": str, \"offset\": int, "
                        + "\"length\": int, \"connection\"?: int, \"since\": str}]")
                .handler(args -> perExport(
                        exports,
                        args,
                        e -> e.faults().held().stream().map(FaultCommands::held).toList()))
                .build());
        commands.register(QmpCommand.builder("fault-release")
                .doc("""
                        Releases held requests one at a time in the chosen order, each after the previous one finished
                        (up to 2 s each), so the order is the order their I/O happens. Without errno they run; with it
                        they fail with that errno. Without ids, all of the export's held requests. An unknown id fails
                        the call and releases nothing.""")
                .argument(DEVICE)
                .optionalList("ids", "int", "held request ids (default: all)")
                .argument(Argument.enumeration(
                        "order",
                        true,
                        "fifo (default: oldest first), lifo, given (the "
                                + "order of ids) or random (shuffled with seed)",
                        List.of("fifo", "lifo", "given", "random")))
                .argument(Argument.optional(
                                "errno",
                                ArgType.ANY,
                                "fail them with this errno (a name such as "
                                        + "\"EIO\" or a number) instead of letting them run")
                        .withTypeName("str|int"))
                .optional("seed", ArgType.INT, "the shuffle's seed for order random (default 0)")
                .returns("{\"released\": [int]}")
                .example(
                        "-> {\"execute\": \"fault-release\", \"arguments\": {\"device\": \"disk0\", \"order\": \"lifo\"}}")
                .example("<- {\"return\": {\"released\": [3, 2, 1]}}")
                .handler(args -> {
                    FaultEngine engine = BlockCommands.export(exports, args).faults();
                    List<Long> ids = args.has("ids") ? args.integers("ids") : null;
                    FaultEngine.Order order = FaultEngine.Order.valueOf(
                            args.string("order", "fifo").toUpperCase(Locale.ROOT));
                    int errno = args.has("errno") ? errno(args) : 0;
                    List<HeldRequest> released =
                            parsed(() -> engine.release(ids, order, errno, args.integer("seed", 0)));
                    return Map.of(
                            "released", released.stream().map(HeldRequest::id).toList());
                })
                .build());
        commands.register(QmpCommand.builder("query-fault-journal")
                .doc("""
                        The fault journal: every injected fault (with the rule's seed and the request's match number),
                        every rule change (with the rules' seeds) and every release of a held request, in order. The
                        server keeps the latest 10000 entries; serve --journal FILE writes all.""")
                .optional("device", ArgType.STRING, "only this export's entries")
                .optional("after", ArgType.INT, "only entries with a larger seq (default 0)")
                .optional("limit", ArgType.INT, "at most this many (default and maximum " + JOURNAL_LIMIT + ")")
                .returns("{\"entries\": [object], \"last\": int}")
                .example("-> {\"execute\": \"query-fault-journal\", \"arguments\": {\"after\": 41, \"limit\": 1}}")
                .example("<- {\"return\": {\"entries\": [{\"seq\": 42, \"event\": \"fault\", \"time\": \"...\", "
                        + "\"device\": \"disk0\", \"rule\": 2, \"type\": \"error\", \"operation\": \"flush\", \"offset\": 0, "
                        + "\"length\": 0, \"connection\": 3, \"action\": \"error EIO\", \"details\": {\"errno\": \"EIO\", "
                        + "\"errno-value\": 5}, \"seed\": 7, \"match\": 12}], \"last\": 57}}")
                .handler(args -> {
                    String device = args.has("device")
                            ? BlockCommands.export(exports, args).name()
                            : null;
                    long limit = args.integer("limit", JOURNAL_LIMIT);
                    if (limit < 1 || limit > JOURNAL_LIMIT) {
                        throw QmpError.parameterExpects("limit", "a number from 1 to " + JOURNAL_LIMIT);
                    }
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("entries", journal.entries(args.integer("after", 0), (int) limit, device));
                    out.put("last", journal.lastSeq());
                    return out;
                })
                .build());
        commands.register(QmpCommand.builder("query-fault-types")
                .doc("The fault types fault-add accepts, with the operations each may target and targets by default.")
                .returns("[{\"name\": str, \"summary\": str, \"ops\": [str], \"default-ops\": [str]}]")
                .handler(args -> {
                    List<Object> out = new ArrayList<>();
                    for (FaultType t : FaultTypes.all()) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("name", t.name());
                        m.put("summary", t.summary());
                        m.put("ops", opNames(t.ops()));
                        m.put("default-ops", opNames(t.defaultOps()));
                        out.add(m);
                    }
                    return out;
                })
                .build());
    }

    /** The listener that emits FAULT_INJECTED and FAULT_RELEASED; one serves every export. */
    static FaultListener events(QmpServer qmp) {
        return new FaultListener() {
            @Override
            public void injected(FaultRecord record) {
                if (record.announce() && qmp.hasAudience()) {
                    qmp.emitMembers("FAULT_INJECTED", record.eventData());
                }
            }

            @Override
            public void released(HeldRequest request, String how, int errno) {
                Map<String, Object> data = held(request);
                data.remove("since");
                data.put("how", how);
                if (errno != 0) {
                    data.put("errno", Errno.name(errno));
                }
                qmp.emit("FAULT_RELEASED", data);
            }
        };
    }

    /** Makes the export's fault engine emit its events and feed the journal. */
    static void wireEvents(Export export, FaultListener events, FaultJournal journal) {
        export.faults().addListener(journal);
        export.faults().addListener(events);
    }

    private static Object perExport(ExportRegistry exports, Members args, Function<Export, List<?>> each) {
        List<Object> out = new ArrayList<>();
        for (Export e : BlockCommands.exportOrAll(exports, args.has("device") ? args.string("device") : null)) {
            out.addAll(each.apply(e));
        }
        return out;
    }

    /** Runs an engine call, turning its refusals into GenericError with the engine's message. */
    private static <T> T parsed(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) { // FaultRuleException included
            throw QmpError.generic("%s", e.getMessage());
        }
    }

    private static List<Long> ids(List<FaultRule> rules) {
        List<Long> ids = new ArrayList<>();
        for (FaultRule r : rules) {
            ids.add(r.id());
        }
        return ids;
    }

    private static int errno(Members args) {
        Object v = args.any("errno");
        if (v instanceof String s) {
            return Errno.byName(s).orElseThrow(() -> QmpError.generic("errno: unknown errno name '%s'", s));
        }
        long n = args.integer("errno");
        if (n < 1 || n > 4095) {
            throw QmpError.parameterExpects("errno", "an errno name or a number from 1 to 4095");
        }
        return (int) n;
    }

    private static List<String> opNames(java.util.Set<BlockOp> ops) {
        List<String> out = new ArrayList<>();
        for (BlockOp op : BlockOp.values()) {
            if (ops.contains(op)) {
                out.add(op.wireName());
            }
        }
        return out;
    }

    private static Map<String, Object> describe(Export e, FaultRule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", e.name());
        m.put("id", r.id());
        m.put("type", r.type().name());
        if (!r.label().isEmpty()) {
            m.put("label", r.label());
        }
        m.put("state", r.state(e.faults().time()));
        m.put("matched", r.matched());
        m.put("chosen", r.chosen());
        m.put("fired", r.fired());
        m.put("added", r.added().toString());
        m.put("rule", r.definition());
        Map<String, Object> status = r.fault().state();
        if (!status.isEmpty()) {
            m.put("status", status);
        }
        return m;
    }

    private static Map<String, Object> held(HeldRequest h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", h.export());
        m.put("id", h.id());
        m.put("rule", h.rule());
        if (h.trigger() > 0) {
            m.put("trigger", h.trigger());
        }
        m.put("operation", h.request().op().wireName());
        m.put("offset", h.request().offset());
        m.put("length", h.request().length());
        if (h.request().connection() >= 0) {
            m.put("connection", h.request().connection());
        }
        m.put("since", h.since().toString());
        return m;
    }
}
