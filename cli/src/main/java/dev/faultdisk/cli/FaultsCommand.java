package dev.faultdisk.cli;

import dev.faultdisk.client.FaultInfo;
import dev.faultdisk.client.FaultJournal;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultType;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk faults}: the fault rules of a running server (docs/faults/). */
@Command(
        name = "faults",
        mixinStandardHelpOptions = true,
        description =
                "Add, list and remove fault rules (error, delay, throttle, hang, corrupt, bad-sector, torn-write, "
                        + "lost-write, misdirected-write, disconnect) and presets; release held requests; read the journal "
                        + "(docs/faults/).",
        subcommands = {
            FaultsCommand.Add.class,
            FaultsCommand.Preset.class,
            FaultsCommand.ListFaults.class,
            FaultsCommand.Remove.class,
            FaultsCommand.Clear.class,
            FaultsCommand.Held.class,
            FaultsCommand.Release.class,
            FaultsCommand.JournalCommand.class,
            FaultsCommand.Types.class
        },
        footer = {
            "  faultdisk faults add disk0 error,ops=write,errno=ENOSPC,times=1",
            "  faultdisk faults add disk0 delay,ops=read,distribution=lognormal,median-ms=20,p99-ms=200",
            "  faultdisk faults list",
            "  faultdisk faults clear disk0"
        })
final class FaultsCommand extends GroupCommand {

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description = {
                "Add fault rules to an export (fault-add): all of them or, if the server refuses one, none.",
                "A RULE is TYPE[,KEY=VALUE...] with the members docs/faults/ names: targeting (ops, offset, length, "
                        + "probability, seed, nth, after, times, start-ms, duration-ms, cycle-off-ms, cycle-on-ms, "
                        + "connection, label, events) and the type's parameters. Lists join with '+' "
                        + "(ops=read+write); a key alone means true (mid-reply)."
            },
            footer = {
                "  # the next write to the first 4 KiB fails with ENOSPC",
                "  faultdisk faults add disk0 error,ops=write,offset=0,length=4K,errno=ENOSPC,times=1",
                "  # 1 ms on every read, and one flush in a hundred fails",
                "  faultdisk faults add disk0 delay,ops=read,ms=1 error,ops=flush,probability=0.01,seed=7",
                "  # hold reads until 'faultdisk faults release disk0'",
                "  faultdisk faults add disk0 hang,ops=read",
                "  # as QMP takes them",
                "  faultdisk faults add disk0 --rules '[{\"type\": \"lost-write\", \"nth\": 3}]'"
            })
    static final class Add extends ExportCommand {
        @Parameters(index = "1..*", paramLabel = "RULE", description = "TYPE[,KEY=VALUE...], in order.")
        List<String> specs = new ArrayList<>();

        @Option(
                names = "--rules",
                paramLabel = "JSON",
                description = "A JSON array of rule objects, as fault-add takes them.")
        String json;

        @Option(names = "--rules-file", paramLabel = "FILE", description = "A file holding such a JSON array.")
        Path file;

        private final List<FaultRule> rules = new ArrayList<>();

        @Override
        Integer before() {
            try {
                for (String s : specs) {
                    rules.add(FaultSpec.rule(s));
                }
                if (json != null) {
                    rules.addAll(FaultSpec.json(json, "--rules"));
                }
                if (file != null) {
                    rules.addAll(FaultSpec.json(Files.readString(file), file.toString()));
                }
            } catch (IOException e) {
                throw new UsageException("--rules-file: cannot read " + file + ": " + FileErrors.reason(e));
            }
            if (rules.isEmpty()) {
                throw new UsageException(
                        "no rules given: name them (e.g. error,ops=write) or use --rules or --rules-file");
            }
            return null;
        }

        @Override
        int run(FaultdiskClient client) {
            List<Long> ids = client.faultAdd(device, rules);
            if (control.json) {
                printJson(Map.of("ids", ids));
            } else {
                for (int i = 0; i < ids.size(); i++) {
                    out().println(device + ": added rule " + ids.get(i) + " ("
                            + rules.get(i).type() + ")");
                }
                out().flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "preset",
            mixinStandardHelpOptions = true,
            description = {
                "Add the rules of a profile (fault-preset): limping-disk, dying-disk or flaky-disk, with "
                        + "KEY=VALUE parameters (docs/faults/presets.md)."
            },
            footer = {
                "  faultdisk faults preset disk0 flaky-disk up-ms=5000 down-ms=1000 mode=error-writes",
                "  faultdisk faults preset disk0 limping-disk median-ms=20 p99-ms=200 seed=7"
            })
    static final class Preset extends ExportCommand {
        @Parameters(index = "1", paramLabel = "PRESET", description = "limping-disk, dying-disk or flaky-disk.")
        String preset;

        @Parameters(index = "2..*", paramLabel = "KEY=VALUE", description = "The profile's parameters.")
        List<String> words = new ArrayList<>();

        private Map<String, Object> params;

        @Override
        Integer before() {
            params = FaultSpec.params(words, preset);
            return null;
        }

        @Override
        int run(FaultdiskClient client) {
            List<Long> ids = client.faultPreset(device, preset, params);
            return reply(
                    Map.of("ids", ids),
                    device + ": " + preset + " added as " + Words.noun(ids.size(), "rule") + " " + Words.ids(ids));
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "The fault rules of one export or all, with their state and counts: requests matched, "
                    + "chosen, and faults fired (query-faults).",
            footer = {"  faultdisk faults list", "  faultdisk faults list disk0 --json"})
    static final class ListFaults extends OneOrAllExportsCommand {
        @Override
        int run(FaultdiskClient client) {
            List<FaultInfo> faults = client.queryFaults(device);
            if (control.json) {
                printJson(faults.stream().map(FaultInfo::raw).toList());
                return ExitCodes.OK;
            }
            return printTable(
                    faults,
                    "fault rules",
                    new String[] {"EXPORT", "ID", "TYPE", "STATE", "MATCHED", "CHOSEN", "FIRED", "RULE"},
                    f -> new Object[] {
                        f.device(),
                        f.id(),
                        f.type() + (f.label().isEmpty() ? "" : " (" + f.label() + ")"),
                        f.state(),
                        f.matched(),
                        f.chosen(),
                        f.fired(),
                        describe(f.rule())
                    });
        }

        /** The rule's members but type, label and seed, as KEY=VALUE. */
        static String describe(FaultRule rule) {
            List<String> parts = new ArrayList<>();
            rule.toJson().forEach((k, v) -> {
                if (!k.equals("type") && !k.equals("label") && !k.equals("seed")) {
                    parts.add(k + "=" + Words.value(v));
                }
            });
            return String.join(",", parts);
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = "Remove fault rules by id (fault-remove); requests their hang rules hold run. "
                    + "An unknown id removes nothing.",
            footer = {"  faultdisk faults remove disk0 1 2"})
    static final class Remove extends ExportCommand {
        @Parameters(
                index = "1..*",
                arity = "1..*",
                paramLabel = "ID",
                description = "Rule ids (faultdisk faults list).")
        List<Long> ids = new ArrayList<>();

        @Override
        int run(FaultdiskClient client) {
            client.faultRemove(device, ids.stream().mapToLong(Long::longValue).toArray());
            return reply(Map.of(), device + ": removed " + Words.noun(ids.size(), "rule") + " " + Words.ids(ids));
        }
    }

    @Command(
            name = "clear",
            mixinStandardHelpOptions = true,
            description = "Remove every fault rule of an export (fault-clear); requests its hang rules hold run.",
            footer = {"  faultdisk faults clear disk0"})
    static final class Clear extends ExportCommand {
        @Override
        int run(FaultdiskClient client) {
            long removed = client.faultClear(device);
            return reply(Map.of("removed", removed), device + ": removed " + Words.count(removed, "fault rule"));
        }
    }

    @Command(
            name = "held",
            mixinStandardHelpOptions = true,
            description = "The requests hang rules hold now, of one export or all, oldest first (query-held-requests).",
            footer = {"  faultdisk faults held", "  faultdisk faults held disk0 --json"})
    static final class Held extends OneOrAllExportsCommand {
        @Override
        int run(FaultdiskClient client) {
            if (control.json) {
                printJson(client.execute("query-held-requests", FaultdiskClient.args("device", device)));
                return ExitCodes.OK;
            }
            return printTable(
                    client.queryHeldRequests(device),
                    "held requests",
                    new String[] {"EXPORT", "ID", "RULE", "OPERATION", "OFFSET", "LENGTH", "CONNECTION", "SINCE"},
                    h -> new Object[] {
                        h.device(),
                        h.id(),
                        h.rule(),
                        h.operation(),
                        h.offset(),
                        h.length(),
                        h.connection() < 0 ? "-" : h.connection(),
                        h.since()
                    });
        }
    }

    @Command(
            name = "release",
            mixinStandardHelpOptions = true,
            description = {
                "Release held requests one after the other, each after the previous one finished "
                        + "(fault-release): they run, or with --errno fail. Without ids, all of the export's."
            },
            footer = {
                "  faultdisk faults release disk0",
                "  faultdisk faults release disk0 --order lifo",
                "  faultdisk faults release disk0 3 1 --order given --errno EIO"
            })
    static final class Release extends ExportCommand {
        @Parameters(
                index = "1..*",
                paramLabel = "ID",
                description = "Held request ids (faultdisk faults held; default: all).")
        List<Long> ids = new ArrayList<>();

        @Option(
                names = "--order",
                paramLabel = "ORDER",
                description = "fifo (default), lifo, given (the order of the ids) or random.")
        String order;

        @Option(
                names = "--errno",
                paramLabel = "ERRNO",
                description = "Fail them with this errno (a name such as EIO or a number).")
        String errno;

        @Option(names = "--seed", paramLabel = "N", description = "The shuffle's seed for --order random.")
        Long seed;

        @Override
        int run(FaultdiskClient client) {
            Object errnoValue = errno == null ? null : errno.matches("\\d+") ? (Object) Long.parseLong(errno) : errno;
            List<Long> released = client.faultRelease(device, ids.isEmpty() ? null : ids, order, errnoValue, seed);
            return reply(
                    Map.of("released", released),
                    device + ": "
                            + (released.isEmpty()
                                    ? "nothing held"
                                    : (errno == null ? "released " : "failed with " + errno + " ")
                                            + Words.ids(released)));
        }
    }

    @Command(
            name = "journal",
            mixinStandardHelpOptions = true,
            description = "The fault journal: injected faults (with the rule's seed), rule changes and releases, "
                    + "in order (query-fault-journal; the server keeps the latest 10,000).",
            footer = {"  faultdisk faults journal", "  faultdisk faults journal disk0 --after 41 --limit 10 --json"})
    static final class JournalCommand extends ControlCommand {
        @Parameters(arity = "0..1", paramLabel = "EXPORT", description = "Only this export's entries.")
        String device;

        @Option(names = "--after", paramLabel = "SEQ", defaultValue = "0", description = "Only entries after this seq.")
        long after;

        @Option(
                names = "--limit",
                paramLabel = "N",
                defaultValue = "10000",
                description = "At most this many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        int run(FaultdiskClient client) {
            FaultJournal journal = client.queryFaultJournal(device, after, limit);
            if (control.json) {
                printJson(Map.of("entries", journal.entries(), "last", journal.last()));
                return ExitCodes.OK;
            }
            if (journal.entries().isEmpty()) {
                out().println("no journal entries");
            }
            for (Map<String, Object> e : journal.entries()) {
                StringBuilder line = new StringBuilder();
                line.append(e.get("seq"))
                        .append(' ')
                        .append(e.getOrDefault("time", ""))
                        .append(' ')
                        .append(e.getOrDefault("device", ""))
                        .append(' ')
                        .append(e.get("event"));
                e.forEach((k, v) -> {
                    if (!List.of("seq", "time", "device", "event").contains(k)) {
                        line.append(' ').append(k).append('=').append(v instanceof String ? v : Json.write(v));
                    }
                });
                out().println(line);
            }
            out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "types",
            mixinStandardHelpOptions = true,
            description =
                    "The fault types faults add takes, with the operations each may target and targets by default "
                            + "(query-fault-types).",
            footer = {"  faultdisk faults types"})
    static final class Types extends ControlCommand {
        @Override
        int run(FaultdiskClient client) {
            if (control.json) {
                printJson(client.execute("query-fault-types"));
                return ExitCodes.OK;
            }
            Table table = new Table("TYPE", "DEFAULT-OPS", "OPS", "SUMMARY");
            for (FaultType t : client.queryFaultTypes()) {
                table.row(t.name(), String.join("+", t.defaultOps()), String.join("+", t.ops()), t.summary());
            }
            table.print(out());
            return ExitCodes.OK;
        }
    }
}
