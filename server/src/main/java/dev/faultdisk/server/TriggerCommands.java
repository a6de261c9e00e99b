package dev.faultdisk.server;

import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.trigger.CommandRunner;
import dev.faultdisk.trigger.Trigger;
import dev.faultdisk.trigger.TriggerEngine;
import dev.faultdisk.trigger.TriggerFiring;
import dev.faultdisk.trigger.TriggerListener;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Triggers (docs/TRIGGERS.md): trigger-add, trigger-remove, trigger-clear, query-triggers, and
 * the event TRIGGER_FIRED. A trigger's command actions run through this same registry, so a
 * trigger can do what a client can.
 */
final class TriggerCommands {
    private TriggerCommands() {}

    /** The server's trigger engine, running actions through {@code commands}. */
    static TriggerEngine engine(CommandRegistry commands, InstantSource clock) {
        return new TriggerEngine(clock, new CommandRunner() {
            @Override
            public void check(String command, Map<String, Object> arguments) {
                try {
                    commands.check(command, arguments);
                } catch (QmpError e) {
                    throw new IllegalArgumentException(e.desc());
                }
            }

            @Override
            public Object run(String command, Map<String, Object> arguments) {
                return commands.invoke(command, arguments);
            }
        });
    }

    static void register(CommandRegistry commands, ExportRegistry exports, TriggerEngine triggers) {
        commands.register(QmpCommand.builder("trigger-add")
                .doc("""
                        Adds triggers in one change: each a condition on the I/O stream ("when") and actions run
                        inside the request that satisfies it, before it goes on: any control command ({"execute": ...,
                        "arguments": ...}, on any export) and hold, delay, fail, tear or lose on the request itself.
                        Conditions: requests (device, ops, offset, length, connection), events (blkdebug-event,
                        fault-fired, breakpoint-hit, flush-done, power-cut), all-of, any-of, sequence; counted with nth,
                        after or every. "times" (default 1) or "repeat": true. On any error nothing is added and the
                        error names the member. docs/TRIGGERS.md has the details and the ordering guarantees.""")
                .requiredList("triggers", "Trigger", "the triggers to add")
                .returns("{\"ids\": [int]}")
                .example("-> {\"execute\": \"trigger-add\", \"arguments\": {\"triggers\": [{\"when\": {\"device\": "
                        + "\"disk0\", \"ops\": [\"write\"], \"after\": 20}, \"actions\": [{\"action\": \"hold\"}, "
                        + "{\"execute\": \"write-cache-arm-flush-error\", \"arguments\": {\"device\": \"disk0\"}}]}]}}")
                .example("<- {\"return\": {\"ids\": [1]}}")
                .handler(args -> {
                    List<Trigger> added = refused(() -> triggers.add(
                            args.list("triggers"),
                            "triggers",
                            name -> exports.find(name)
                                    .map(e -> OptionalLong.of(e.size()))
                                    .orElse(OptionalLong.empty()),
                            name -> exports.find(name)
                                    .map(e -> e.faults().files())
                                    .orElse(null)));
                    return Map.of("ids", added.stream().map(Trigger::id).toList());
                })
                .build());
        commands.register(QmpCommand.builder("trigger-remove")
                .doc("Removes triggers by id in one change; an unknown id fails the call and removes nothing.")
                .requiredList("ids", "int", "trigger ids")
                .handler(args -> {
                    List<Long> ids = args.integers("ids");
                    refused(() -> triggers.remove(ids));
                    return null;
                })
                .build());
        commands.register(QmpCommand.builder("trigger-clear")
                .doc("Removes every trigger.")
                .returns("{\"removed\": int}")
                .handler(args -> Map.of("removed", triggers.clear().size()))
                .build());
        commands.register(QmpCommand.builder("query-triggers")
                .doc("""
                        Every trigger, by id: its condition and actions as accepted, times, how often it fired, when
                        (the first 16 times) and what it waits for now, e.g. "12/21 write on disk0". A trigger that
                        fired as often as it may stays listed until removed.""")
                .returns("[{\"id\": int, \"name\": str, \"when\": object, \"actions\": [object], \"times\": int|str, "
                        + "\"fired\": int, \"added\": str, \"fire-times\": [str], \"waiting\": [str]}]")
                .handler(args -> triggers.describe())
                .build());
    }

    /** Emits TRIGGER_FIRED and journal entries (exports are attached by {@link ExportWiring}). */
    static void wire(TriggerEngine triggers, QmpServer qmp, FaultJournal journal, InstantSource clock) {
        triggers.addListener(new TriggerListener() {
            @Override
            public void fired(TriggerFiring firing) {
                Map<String, Object> data = firing.toMap();
                qmp.emit("TRIGGER_FIRED", data);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("event", "trigger-fired");
                entry.put("time", firing.time().toString());
                entry.put("device", firing.observation().export());
                entry.putAll(data);
                journal.note(entry);
            }

            @Override
            public void changed(List<Long> added, List<Long> removed) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("event", added.isEmpty() ? "triggers-removed" : "triggers-added");
                entry.put("time", clock.instant().toString());
                entry.put("ids", added.isEmpty() ? removed : added);
                journal.note(entry);
            }
        });
    }

    private static <T> T refused(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) { // FaultRuleException included
            throw QmpError.generic("%s", e.getMessage());
        }
    }
}
