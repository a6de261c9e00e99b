package dev.faultdisk.trigger;

import dev.faultdisk.fault.RuleParams;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.wire.Errno;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;

/** Reads one trigger from its JSON-like map; errors name the member ({@code triggers[0].actions[1].errno}). */
final class TriggerParser {
    static final int MAX_ACTIONS = 16;
    static final int MAX_NAME = 128;

    private static final List<String> REQUEST_ACTIONS = List.of("hold", "delay", "fail", "tear", "lose");

    private TriggerParser() {}

    static Trigger parse(
            RuleParams p,
            long id,
            Instant now,
            Function<String, OptionalLong> exportSize,
            Function<String, FileBinding> files,
            CommandRunner runner) {
        String name = p.string("name", "trigger-" + id);
        if (name.isEmpty() || name.length() > MAX_NAME) {
            throw p.error("name", "must have 1 to " + MAX_NAME + " characters");
        }
        if (!p.has("when")) {
            throw p.error("when", "is missing: a trigger needs a condition");
        }
        Condition condition = Conditions.parse(p.object("when"), exportSize, files);
        if (!p.has("actions")) {
            throw p.error("actions", "is missing: a trigger needs at least one action");
        }
        List<?> raw = p.list("actions");
        if (raw.isEmpty() || raw.size() > MAX_ACTIONS) {
            throw p.error("actions", "must list 1 to " + MAX_ACTIONS + " actions");
        }
        List<TriggerAction> actions = new ArrayList<>();
        boolean outcome = false;
        for (int i = 0; i < raw.size(); i++) {
            RuleParams a = RuleParams.of(raw.get(i), p.name("actions") + "[" + i + "]");
            TriggerAction action = action(a, runner);
            if (action.onRequest() && !condition.completesOnRequest()) {
                throw a.error(
                        "action",
                        "acts on the request that fires the trigger, but this condition can be"
                                + " completed by an event, where there is no request: use a request condition last");
            }
            if (action.decidesOutcome()) {
                if (outcome) {
                    throw a.error(
                            "action",
                            "decides the request's outcome, and an earlier action already does"
                                    + " (fail, tear and lose: at most one per trigger)");
                }
                outcome = true;
            }
            actions.add(action);
        }
        if (p.has("times") && p.has("repeat")) {
            throw p.error("repeat", "can not be combined with times");
        }
        long times = p.bool("repeat", false) ? Trigger.UNTIL_REMOVED : p.integer("times", 1, 1, Long.MAX_VALUE);
        p.rejectUnused("a trigger (name, when, actions, times, repeat)");
        return new Trigger(id, name, condition, actions, times, now);
    }

    private static TriggerAction action(RuleParams a, CommandRunner runner) {
        if (a.has("execute")) {
            String command = a.string("execute");
            Map<String, Object> arguments = a.has("arguments") ? a.map("arguments") : Map.of();
            if (command.equals("qmp_capabilities")) {
                throw a.error("execute", "can not be qmp_capabilities: a trigger runs inside the server");
            }
            try {
                runner.check(command, arguments);
            } catch (IllegalArgumentException e) {
                throw a.error("execute", "'" + command + "': " + e.getMessage());
            }
            a.rejectUnused("a command action (execute, arguments)");
            return new TriggerAction.Command(command, arguments);
        }
        if (!a.has("action")) {
            throw a.error(
                    "action",
                    "is missing: give execute (a command) or action (" + String.join(", ", REQUEST_ACTIONS) + ")");
        }
        String kind = a.choice("action", null, REQUEST_ACTIONS);
        TriggerAction action = switch (kind) {
            case "hold" -> new TriggerAction.Hold(a.millis("timeout-ms", 0));
            case "delay" -> {
                if (!a.has("ms")) {
                    throw a.error("ms", "is missing: how long to delay the request");
                }
                yield new TriggerAction.Delay(a.millis("ms", 0));
            }
            case "fail" -> new TriggerAction.Fail(a.errno("errno", Errno.EIO));
            case "tear" -> new TriggerAction.Tear(a.integer("keep-sectors", 1, 0, Integer.MAX_VALUE), tearErrno(a));
            default -> new TriggerAction.Lose();
        };
        a.rejectUnused("a " + kind + " action");
        return action;
    }

    /** A silent tear reports success; otherwise the write fails with the errno (EIO by default). */
    private static int tearErrno(RuleParams a) {
        if (a.bool("silent", false)) {
            if (a.has("errno")) {
                throw a.error("errno", "can not be combined with silent: a silent tear reports success");
            }
            return 0;
        }
        return a.errno("errno", Errno.EIO);
    }
}
