package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.DEVICE;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.fault.blkdebug.BlkdebugEvent;
import dev.faultdisk.fault.blkdebug.BlkdebugListener;
import dev.faultdisk.fault.blkdebug.Breakpoint;
import dev.faultdisk.fault.blkdebug.InjectErrorRule;
import dev.faultdisk.fault.blkdebug.InjectedError;
import dev.faultdisk.fault.blkdebug.IoType;
import dev.faultdisk.fault.blkdebug.Rule;
import dev.faultdisk.fault.blkdebug.SetStateRule;
import dev.faultdisk.fault.blkdebug.SuspendedRequest;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * The blkdebug commands: blkdebug-set-rules (the command of the blkdebug QMP patch of 2014), and listing, clearing, breakpoints and
 * suspended requests; plus the events BLOCK_IO_ERROR, BLKDEBUG_SUSPENDED and BLKDEBUG_RESUMED.
 */
final class BlkdebugCommands {
    private static final List<String> INJECT_ERROR_KEYS =
            List.of("event", "type", "state", "iotype", "errno", "sector", "once", "immediately");
    private static final List<String> SET_STATE_KEYS = List.of("event", "type", "state", "new_state", "new-state");

    private BlkdebugCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports) {
        commands.register(QmpCommand.builder("blkdebug-set-rules")
                .doc("""
                        Adds blkdebug rules to an export and resets its blkdebug state to 1, as the blkdebug QMP patch
                        of 2014 does; existing rules stay (use blkdebug-clear-rules to remove them). Each rule is an
                        object with "type" "inject-error" (event, state, iotype, errno, sector, once, immediately)
                        or "set-state" (event, state, new_state). Defaults as in QEMU: state 0 (any), errno 5 (EIO),
                        sector -1 (any), once and immediately false, iotype all but block-status. Booleans also accept 1
                        and 0. Rules of each type up to the export's rules budget (--max-rules, counted apart from fault
                        rules); the call applies all of them or, on any error, none.""")
                .argument(DEVICE)
                .requiredList("rules", "BlkdebugRule", "the rules to add")
                .example("-> {\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", "
                        + "\"rules\":[{\"event\": \"write_aio\", \"type\": \"inject-error\", \"immediately\": 1, "
                        + "\"once\": 0, \"state\": 1}]}}")
                .example("<- {\"return\": {}}")
                .handler(args -> {
                    Export export = BlockCommands.export(exports, args);
                    List<Rule> rules = new ArrayList<>();
                    for (Members rule : args.objects("rules")) {
                        rules.add(parseRule(rule));
                    }
                    try {
                        export.blkdebug().addRules(rules);
                    } catch (IllegalArgumentException e) { // the rules budget: nothing was added
                        throw QmpError.generic("export '%s' has %s", export.name(), e.getMessage());
                    }
                    return null;
                })
                .build());
        commands.register(QmpCommand.builder("blkdebug-clear-rules")
                .doc("Removes every blkdebug rule of an export (breakpoints stay) and resets its state to 1.")
                .argument(DEVICE)
                .handler(args -> {
                    BlockCommands.export(exports, args).blkdebug().clearRules();
                    return null;
                })
                .build());
        commands.register(QmpCommand.builder("query-blkdebug-rules")
                .doc("""
                        An export's blkdebug rules in definition order, its current state, and the inject-error rules
                        armed now (indexes into rules).""")
                .argument(DEVICE)
                .returns("{\"state\": int, \"rules\": [BlkdebugRule], \"armed\": [int]}")
                .handler(args ->
                        describeRules(BlockCommands.export(exports, args).blkdebug()))
                .build());
        commands.register(QmpCommand.builder("blkdebug-set-breakpoint")
                .doc("""
                        Like qemu-io's 'break EVENT TAG': the next request of this export that reaches EVENT is
                        suspended under TAG until blkdebug-resume or blkdebug-remove-breakpoint. Each suspension emits
                        BLKDEBUG_SUSPENDED. Breakpoints not yet fired count against the export's rules budget
                        (--max-rules), apart from its rules.""")
                .argument(DEVICE)
                .required("event", ArgType.STRING, "a blkdebug event name, e.g. write_aio")
                .required("tag", ArgType.STRING, "a name for the breakpoint")
                .handler(args -> {
                    Export export = BlockCommands.export(exports, args);
                    BlkdebugEvent event = event(args, "event");
                    try {
                        export.blkdebug().setBreakpoint(event, args.string("tag"));
                    } catch (IllegalArgumentException e) { // the budget: nothing was set
                        throw QmpError.generic("export '%s' has %s", export.name(), e.getMessage());
                    }
                    return null;
                })
                .build());
        commands.register(tagCommand(
                exports,
                "blkdebug-resume",
                "Like qemu-io's 'resume TAG': releases the most recently suspended request under TAG.",
                BlkdebugEngine::resume,
                "No suspended request with tag"));
        commands.register(tagCommand(
                exports,
                "blkdebug-remove-breakpoint",
                "Like qemu-io's 'remove_break TAG': removes the breakpoints tagged TAG and releases every "
                        + "request suspended under it.",
                BlkdebugEngine::removeBreakpoint,
                "No breakpoint or suspended request with tag"));
        commands.register(QmpCommand.builder("query-blkdebug-breakpoints")
                .doc("""
                        An export's breakpoints that have not fired and the requests suspended now, so a client can wait
                        for a suspension by polling as well as through BLKDEBUG_SUSPENDED.""")
                .argument(DEVICE)
                .returns("{\"breakpoints\": [{\"event\", \"tag\"}], \"suspended\": [SuspendedRequest]}")
                .handler(args -> {
                    BlkdebugEngine engine = BlockCommands.export(exports, args).blkdebug();
                    List<Object> breakpoints = new ArrayList<>();
                    for (Breakpoint b : engine.breakpoints()) {
                        breakpoints.add(Map.of("event", b.event().qapiName(), "tag", b.tag()));
                    }
                    List<Object> suspended = new ArrayList<>();
                    for (SuspendedRequest r : engine.suspended()) {
                        suspended.add(suspension(args.string("device"), r));
                    }
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("breakpoints", breakpoints);
                    out.put("suspended", suspended);
                    return out;
                })
                .build());
    }

    /** Makes the export's engine emit BLOCK_IO_ERROR and the breakpoint events. */
    static void wireEvents(Export export, QmpServer qmp) {
        String device = export.name();
        export.blkdebug().addListener(new BlkdebugListener() {
            @Override
            public void suspended(SuspendedRequest request) {
                qmp.emit("BLKDEBUG_SUSPENDED", suspension(device, request));
            }

            @Override
            public void resumed(SuspendedRequest request) {
                Map<String, Object> data = suspension(device, request);
                data.put("how", "resumed");
                qmp.emit("BLKDEBUG_RESUMED", data);
            }

            @Override
            public void dropped(SuspendedRequest request) {
                // Reported as FAULT_RELEASED reports a dropped hold: how and the errno it failed with.
                Map<String, Object> data = suspension(device, request);
                data.put("how", "dropped");
                data.put("errno", Errno.name(Errno.ECONNRESET));
                qmp.emit("BLKDEBUG_RESUMED", data);
            }

            @Override
            public void errorInjected(InjectedError error) {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("device", device);
                data.put("node-name", device);
                data.put("operation", error.ioOperation());
                data.put("action", "report");
                data.put("nospace", error.errno() == Errno.ENOSPC);
                data.put("reason", Strerror.of(error.errno()));
                qmp.emit("BLOCK_IO_ERROR", data);
            }
        });
    }

    static Map<String, Object> describeRules(BlkdebugEngine engine) {
        List<Rule> rules = engine.rules();
        List<Object> described = new ArrayList<>();
        for (Rule r : rules) {
            described.add(describe(r));
        }
        List<Object> armed = new ArrayList<>();
        for (InjectErrorRule a : engine.activeRules()) {
            for (int i = 0; i < rules.size(); i++) {
                @SuppressWarnings("ReferenceEquality") // the armed rule itself: an equal rule elsewhere is not armed
                boolean armedHere = rules.get(i) == a;
                if (armedHere) {
                    armed.add(i);
                    break;
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("state", engine.state());
        out.put("rules", described);
        out.put("armed", armed);
        return out;
    }

    private static Map<String, Object> describe(Rule rule) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (rule) {
            case InjectErrorRule r -> {
                m.put("type", "inject-error");
                m.put("event", r.event().qapiName());
                m.put("state", r.state());
                List<String> types = new ArrayList<>();
                for (IoType t : r.ioTypes()) {
                    types.add(t.qapiName());
                }
                m.put("iotype", types);
                m.put("errno", r.errno());
                m.put("sector", r.sector());
                m.put("once", r.once());
                m.put("immediately", r.immediately());
            }
            case SetStateRule r -> {
                m.put("type", "set-state");
                m.put("event", r.event().qapiName());
                m.put("state", r.state());
                m.put("new_state", r.newState());
            }
        }
        return m;
    }

    private static Map<String, Object> suspension(String device, SuspendedRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", device);
        m.put("tag", r.tag());
        m.put("event", r.event().qapiName());
        m.put("operation", r.operation().toString());
        m.put("offset", r.offset());
        m.put("length", r.length());
        return m;
    }

    /**
     * A command on one breakpoint tag of an export: {@code action} says whether it knew the tag; if
     * not, the command fails with {@code unknown} followed by the tag in quotes.
     */
    private static QmpCommand tagCommand(
            ExportRegistry exports,
            String name,
            String doc,
            BiPredicate<BlkdebugEngine, String> action,
            String unknown) {
        return QmpCommand.builder(name)
                .doc(doc)
                .argument(DEVICE)
                .required("tag", ArgType.STRING, "the breakpoint's tag")
                .handler(args -> {
                    String tag = args.string("tag");
                    if (!action.test(BlockCommands.export(exports, args).blkdebug(), tag)) {
                        throw QmpError.generic("%s '%s'", unknown, tag);
                    }
                    return null;
                })
                .build();
    }

    /** Parses one rule object; every problem is a QMP error naming the member (rules[i].x). */
    static Rule parseRule(Members rule) {
        String type = rule.choice("type", List.of("inject-error", "set-state"));
        BlkdebugEvent event = event(rule, "event");
        int state = intIn(rule, "state", 0, 0, Integer.MAX_VALUE);
        try {
            if (type.equals("set-state")) {
                rule.rejectUnknown(SET_STATE_KEYS);
                if (rule.has("new_state") && rule.has("new-state")) {
                    throw QmpError.generic("%s: give new_state or new-state, not both", rule.path());
                }
                String key = rule.has("new-state") ? "new-state" : "new_state";
                int newState = intIn(rule, key, SetStateRule.DEFAULT_NEW_STATE, 0, Integer.MAX_VALUE);
                return new SetStateRule(event, state, newState);
            }
            rule.rejectUnknown(INJECT_ERROR_KEYS);
            InjectErrorRule r = InjectErrorRule.on(event)
                    .withState(state)
                    .withErrno(intIn(rule, "errno", Errno.EIO, 0, 4095))
                    .withSector(rule.integer("sector", InjectErrorRule.ANY_SECTOR))
                    .withOnce(rule.bool("once", false))
                    .withImmediately(rule.bool("immediately", false));
            if (rule.has("iotype")) {
                r = r.withIoTypes(ioTypes(rule));
            }
            if (r.sector() < -1) {
                throw QmpError.generic("%s must be -1 (any) or a sector number", rule.fullName("sector"));
            }
            return r;
        } catch (IllegalArgumentException e) {
            throw QmpError.generic("%s: %s", rule.path(), e.getMessage());
        }
    }

    private static Set<IoType> ioTypes(Members rule) {
        Object value = rule.any("iotype");
        List<String> names = value instanceof List<?> ? rule.strings("iotype") : List.of(rule.string("iotype"));
        Set<IoType> types = EnumSet.noneOf(IoType.class);
        for (String name : names) {
            types.add(IoType.byName(name)
                    .orElseThrow(() -> QmpError.generic(
                            "%s: unknown iotype '%s' (read, write, write-zeroes, discard, flush, block-status)",
                            rule.fullName("iotype"), name)));
        }
        if (types.isEmpty()) {
            throw QmpError.generic("%s must name at least one iotype", rule.fullName("iotype"));
        }
        return types;
    }

    private static BlkdebugEvent event(Members args, String key) {
        String name = args.string(key);
        try {
            return BlkdebugEvent.parse(name);
        } catch (IllegalArgumentException e) {
            throw QmpError.generic("%s: %s", args.fullName(key), e.getMessage());
        }
    }

    private static int intIn(Members args, String key, int absent, int min, int max) {
        long v = args.integer(key, absent);
        if (v < min || v > max) {
            throw QmpError.generic("%s must be between %d and %d", args.fullName(key), min, max);
        }
        return (int) v;
    }
}
