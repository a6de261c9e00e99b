package dev.faultdisk.cli;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.BlkdebugState;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.FileErrors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code faultdisk blkdebug}: QEMU blkdebug rules of a running server. */
@Command(
        name = "blkdebug",
        mixinStandardHelpOptions = true,
        description = "Set, clear and list the blkdebug rules of a running server's exports.",
        subcommands = {BlkdebugCommand.SetRules.class, BlkdebugCommand.Clear.class, BlkdebugCommand.ListRules.class},
        footer = {
            "  faultdisk blkdebug set-rules disk0 --inject-error write_aio,errno=ENOSPC,once",
            "  faultdisk blkdebug list disk0",
            "  faultdisk blkdebug clear disk0"
        })
final class BlkdebugCommand extends GroupCommand {

    @Command(
            name = "set-rules",
            mixinStandardHelpOptions = true,
            description = {
                "Add blkdebug rules to an export (blkdebug-set-rules): all of them or, if the server "
                        + "refuses one, none. Rules already there stay; the state machine goes back to 1.",
                "Rules apply in the order given. Event names: write_aio, read_aio, flush_to_os, flush_to_disk, "
                        + "pwritev, pwritev_zero, pwritev_done, none (docs/blkdebug-events.md)."
            },
            footer = {
                "  # every write fails with EIO, from now on",
                "  faultdisk blkdebug set-rules disk0 --inject-error write_aio",
                "  # the next write fails with ENOSPC, once",
                "  faultdisk blkdebug set-rules disk0 --inject-error write_aio,errno=ENOSPC,once",
                "  # the second flush fails: a state machine",
                "  faultdisk blkdebug set-rules disk0 --set-state flush_to_disk,state=1,new-state=2 \\",
                "      --inject-error flush_to_disk,state=2,errno=EIO,immediately",
                "  # as QMP takes them",
                "  faultdisk blkdebug set-rules disk0 --rules '[{\"type\": \"inject-error\", \"event\": \"read_aio\", \"sector\": 0}]'"
            })
    static final class SetRules extends ExportCommand {
        /** One per option given, in command-line order: rule order matters to blkdebug. */
        @CommandLine.ArgGroup(exclusive = true, multiplicity = "0..*", heading = "Rules, in the order given:%n")
        List<RuleOption> given = new ArrayList<>();

        static final class RuleOption {
            @Option(
                    names = "--inject-error",
                    paramLabel = "EVENT[,KEY=VALUE...]",
                    required = true,
                    description = {
                        "A rule that fails requests at EVENT. Keys: " + RuleSpec.INJECT_KEYS + ".",
                        "errno takes a number or a name (EIO, ENOSPC, EROFS...); defaults as in QEMU: errno EIO, "
                                + "any state, any sector, not once, not immediately."
                    })
            String injectError;

            @Option(
                    names = "--set-state",
                    paramLabel = "EVENT,new-state=N[,state=N]",
                    required = true,
                    description = "A rule that moves the state machine when EVENT fires.")
            String setState;

            @Option(
                    names = "--rules",
                    paramLabel = "JSON",
                    required = true,
                    description = "A JSON array of rule objects, as blkdebug-set-rules takes them.")
            String json;

            @Option(
                    names = "--rules-file",
                    paramLabel = "FILE",
                    required = true,
                    description = "A file holding such a JSON array.")
            Path file;

            List<BlkdebugRule> rules() throws IOException {
                if (injectError != null) {
                    return List.of(RuleSpec.injectError(injectError));
                }
                if (setState != null) {
                    return List.of(RuleSpec.setState(setState));
                }
                if (json != null) {
                    return RuleSpec.json(json, "--rules");
                }
                return RuleSpec.json(Files.readString(file), file.toString());
            }
        }

        private final List<BlkdebugRule> rules = new ArrayList<>();

        @Override
        Integer before() {
            for (RuleOption o : given) {
                try {
                    rules.addAll(o.rules());
                } catch (IOException e) {
                    throw new UsageException("--rules-file: cannot read " + o.file + ": " + FileErrors.reason(e));
                } catch (IllegalStateException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            if (rules.isEmpty()) {
                throw new UsageException("no rules given: use --inject-error, --set-state, --rules or --rules-file");
            }
            return null;
        }

        @Override
        int run(FaultdiskClient client) {
            client.blkdebugSetRules(device, rules);
            if (control.json) {
                printJson(client.execute("query-blkdebug-rules", FaultdiskClient.args("device", device)));
            } else {
                out().println(device + ": added " + Words.count(rules.size(), "rule") + "; state reset to 1");
                ListRules.print(out(), device, client.queryBlkdebugRules(device));
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "clear",
            mixinStandardHelpOptions = true,
            description =
                    "Remove every blkdebug rule of an export (blkdebug-clear-rules); breakpoints stay, the state goes back to 1.",
            footer = {"  faultdisk blkdebug clear disk0"})
    static final class Clear extends ExportCommand {
        @Override
        int run(FaultdiskClient client) {
            client.blkdebugClearRules(device);
            return reply(Map.of(), device + ": rules cleared");
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Show the blkdebug rules, state and armed rules of one export or all (query-blkdebug-rules).",
            footer = {"  faultdisk blkdebug list", "  faultdisk blkdebug list disk0 --json"})
    static final class ListRules extends OneOrAllExportsCommand {
        @Override
        int run(FaultdiskClient client) {
            return replyEach(
                    client, "query-blkdebug-rules", (name, reply) -> print(out(), name, BlkdebugState.from(reply)));
        }

        static void print(PrintWriter out, String device, BlkdebugState state) {
            out.println(device + ": state " + state.state() + ", "
                    + (state.rules().isEmpty()
                            ? "no rules"
                            : Words.count(state.rules().size(), "rule")));
            for (int i = 0; i < state.rules().size(); i++) {
                out.println("  #" + i + " " + describe(state.rules().get(i))
                        + (state.armed().contains(i) ? "  [armed]" : ""));
            }
            out.flush();
        }

        static String describe(BlkdebugRule rule) {
            StringBuilder sb = new StringBuilder(String.format("%-12s %s", rule.type(), rule.event()));
            rule.toJson().forEach((k, v) -> {
                if (!k.equals("type") && !k.equals("event")) {
                    sb.append(' ').append(k).append('=').append(Words.value(v));
                    if (k.equals("errno") && v instanceof Long n) {
                        Errno.knownName(n.intValue())
                                .ifPresent(name -> sb.append(" (").append(name).append(')'));
                    }
                }
            });
            return sb.toString();
        }
    }
}
