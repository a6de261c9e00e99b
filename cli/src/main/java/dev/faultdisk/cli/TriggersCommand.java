package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.TriggerInfo;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code faultdisk triggers}: the triggers of a running server (docs/TRIGGERS.md). */
@Command(
        name = "triggers",
        mixinStandardHelpOptions = true,
        description = "Add, list and remove triggers: a condition on the I/O stream and actions that run inside "
                + "the request that satisfies it, before it goes on (docs/TRIGGERS.md).",
        subcommands = {
            TriggersCommand.Add.class,
            TriggersCommand.ListTriggers.class,
            TriggersCommand.Remove.class,
            TriggersCommand.Clear.class
        },
        footer = {
            "  faultdisk triggers add '{\"when\": {\"device\": \"disk0\", \"ops\": [\"write\"], \"after\": 20}, "
                    + "\"actions\": [{\"action\": \"hold\"}]}'",
            "  faultdisk triggers list",
            "  faultdisk triggers remove 1",
            "  faultdisk triggers clear"
        })
final class TriggersCommand extends GroupCommand {

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description = {
                "Add triggers (trigger-add): all of them or, if the server refuses one, none; prints their ids.",
                "A TRIGGER is JSON, given inline or as @FILE: one trigger object or an array of them, as trigger-add "
                        + "takes them (name, when, actions, times, repeat; docs/TRIGGERS.md)."
            },
            footer = {
                "  # hold the 21st write on disk0 and make the next flush fail",
                "  faultdisk triggers add '{\"name\": \"hold-21st\", \"when\": {\"device\": \"disk0\", \"ops\": "
                        + "[\"write\"], \"after\": 20}, \"actions\": [{\"action\": \"hold\", \"timeout-ms\": 60000}, "
                        + "{\"execute\": \"write-cache-arm-flush-error\", \"arguments\": {\"device\": \"disk0\"}}]}'",
                "  # disk A's 50th write cuts disk B's power",
                "  faultdisk triggers add '{\"when\": {\"device\": \"a\", \"ops\": [\"write\"], \"nth\": 50}, "
                        + "\"actions\": [{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"b\"}}]}'",
                "  faultdisk triggers add @triggers.json"
            })
    static final class Add extends ControlCommand {
        @Parameters(
                arity = "1..*",
                paramLabel = "TRIGGER",
                description = "A trigger or an array of triggers as JSON, or @FILE holding that.")
        List<String> specs = new ArrayList<>();

        private final List<Object> triggers = new ArrayList<>();

        @Override
        Integer before() {
            for (String spec : specs) {
                triggers.addAll(parse(spec));
            }
            return null;
        }

        /** The triggers one argument holds: an object, or an array of objects; inline or in @FILE. */
        private static List<Object> parse(String spec) {
            String where = spec.startsWith("@") ? spec.substring(1) : "TRIGGER";
            String text = spec;
            if (spec.startsWith("@")) {
                try {
                    text = Files.readString(Path.of(where));
                } catch (IOException e) {
                    throw new UsageException("cannot read " + where + ": " + FileErrors.reason(e));
                }
            }
            Object value;
            try {
                value = Json.parse(text);
            } catch (IllegalArgumentException e) {
                throw new UsageException(where + ": not JSON: " + e.getMessage());
            }
            List<?> list = value instanceof List<?> l ? l : List.of(value);
            if (list.isEmpty()) {
                throw new UsageException(where + ": an empty array adds no trigger");
            }
            for (Object o : list) {
                if (!(o instanceof Map<?, ?>)) {
                    throw new UsageException(
                            where + ": a trigger is a JSON object (or an array of them), not " + Json.describe(o));
                }
            }
            return new ArrayList<>(list);
        }

        @Override
        int run(FaultdiskClient client) {
            Object reply = client.execute("trigger-add", FaultdiskClient.args("triggers", triggers));
            if (control.json) {
                printJson(reply);
                return ExitCodes.OK;
            }
            List<?> ids = (List<?>) ((Map<?, ?>) reply).get("ids");
            for (int i = 0; i < ids.size(); i++) {
                Object name = ((Map<?, ?>) triggers.get(i)).get("name");
                out().println("added trigger " + ids.get(i) + (name == null ? "" : " (" + name + ")"));
            }
            out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Every trigger with its condition, actions, how often it fired and what it waits for now "
                    + "(query-triggers).",
            footer = {"  faultdisk triggers list", "  faultdisk triggers list --json"})
    static final class ListTriggers extends ControlCommand {
        @Override
        int run(FaultdiskClient client) {
            List<TriggerInfo> triggers = client.queryTriggers();
            if (control.json) {
                printJson(triggers.stream().map(TriggerInfo::raw).toList());
                return ExitCodes.OK;
            }
            if (triggers.isEmpty()) {
                printLine("no triggers");
                return ExitCodes.OK;
            }
            for (TriggerInfo t : triggers) {
                out().println(t.id() + " " + t.name() + ": fired " + t.fired() + " of " + times(t) + "; " + waiting(t));
                out().println("    when:    " + Json.write(t.raw().get("when")));
                out().println("    actions: " + Json.write(t.raw().get("actions")));
            }
            out().flush();
            return ExitCodes.OK;
        }

        private static String times(TriggerInfo t) {
            Object times = t.raw().get("times");
            return "until-removed".equals(times) ? "unlimited" : String.valueOf(times);
        }
    }

    /** What a trigger waits for, as the list and a scenario's progress show it: "waiting: 12/21 write on disk0". */
    static String waiting(TriggerInfo t) {
        return t.waiting().isEmpty() ? "done" : "waiting: " + String.join(", ", t.waiting());
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = "Remove triggers by id (trigger-remove): all of them, or, if one is unknown, none.",
            footer = {"  faultdisk triggers remove 1 2"})
    static final class Remove extends ControlCommand {
        @Parameters(arity = "1..*", paramLabel = "ID", description = "Trigger ids (faultdisk triggers list).")
        List<Long> ids = new ArrayList<>();

        @Override
        int run(FaultdiskClient client) {
            client.triggerRemove(ids.stream().mapToLong(Long::longValue).toArray());
            return reply(Map.of(), "removed " + Words.noun(ids.size(), "trigger") + " " + Words.ids(ids));
        }
    }

    @Command(
            name = "clear",
            mixinStandardHelpOptions = true,
            description = "Remove every trigger (trigger-clear).",
            footer = {"  faultdisk triggers clear"})
    static final class Clear extends ControlCommand {
        @Override
        int run(FaultdiskClient client) {
            long removed = client.triggerClear();
            return reply(Map.of("removed", removed), "removed " + Words.count(removed, "trigger"));
        }
    }
}
