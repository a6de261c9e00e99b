package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk run}: a scenario file against a running server. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run a scenario: a JSON schedule of QMP commands, each at a time offset (\"at\": \"5s\"), after "
                    + "N writes to an export (\"after-writes\": 100: inside the next write, before it goes on), when a "
                    + "request hits a breakpoint (\"on-breakpoint\": \"TAG\") or right after the step before. "
                    + "after-writes, after-flushes and on-breakpoint run on the server as triggers. Prints a line per step and a "
                    + "summary, and writes a journal (JSON lines of what was done when) that --replay runs again.",
            "The file is checked completely before anything runs, then against the server (commands and exports).",
            "docs/SCENARIOS.md describes the format."
        },
        footer = {
            "  faultdisk run checkpoint-enospc.json",
            "  faultdisk run --check checkpoint-enospc.json          # only check the file",
            "  faultdisk run --replay checkpoint-enospc.json.journal.jsonl",
            "  faultdisk run scenario.json --json --no-journal | jq -c 'select(.outcome == \"error\")'"
        })
final class RunCommand extends ControlCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "The scenario file (or, with --replay, a journal).")
    Path file;

    @Option(
            names = "--journal",
            paramLabel = "FILE",
            description = "Where to write the journal (default: FILE.journal.jsonl in the current directory, whatever"
                    + " directory FILE is in).")
    Path journalFile;

    @Option(names = "--no-journal", description = "Write no journal.")
    boolean noJournal;

    @Option(names = "--replay", description = "FILE is a journal: run its commands again at the moments they ran.")
    boolean replay;

    @Option(names = "--check", description = "Only check the file (no server needed); exit 0 if it is valid, 2 if not.")
    boolean checkOnly;

    @Option(names = "--keep-going", description = "Go on after a step fails (by default the run stops there).")
    boolean keepGoing;

    @Option(
            names = "--poll",
            paramLabel = "DURATION",
            defaultValue = "1s",
            description = "How often to show what a waiting after-writes or on-breakpoint step waits for, if that "
                    + "changed (default: ${DEFAULT-VALUE}).")
    Duration poll;

    private Scenario scenario;

    @Override
    Integer before() {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + FileErrors.reason(e));
        }
        try {
            scenario = replay
                    ? JournalReplay.scenario(text, file.toString())
                    : ScenarioParser.parse(text, file.toString());
        } catch (ScenarioException e) {
            throw new UsageException(e.getMessage());
        }
        if (checkOnly) {
            printLine(file + ": valid, " + Words.count(scenario.steps().size(), "step"));
            return ExitCodes.OK;
        }
        return null;
    }

    @Override
    int run(FaultdiskClient client) throws IOException {
        List<String> problems = ScenarioRunner.check(scenario, client);
        if (!problems.isEmpty()) {
            throw new UsageException(ScenarioException.message(file.toString(), problems));
        }
        // The current directory, not the scenario's: scenarios are often read from places not to write
        // in (docs/scenarios/, a read-only checkout). Printed absolute, so the user knows where it went.
        Path journalPath = noJournal
                ? null
                : (journalFile != null ? journalFile : Path.of(file.getFileName() + ".journal.jsonl"))
                        .toAbsolutePath()
                        .normalize();
        try (Journal journal = journalPath == null ? Journal.none() : Journal.open(journalPath)) {
            // With --json the journal's entries are the output; without, a line per step and a summary.
            Consumer<String> text = control.json ? line -> {} : this::printLine;
            if (control.json) {
                journal.echoTo(entry -> printLine(Json.write(entry)));
            }
            text.accept("faultdisk run: " + scenario.name() + ", "
                    + scenario.steps().size() + " steps against " + client.address()
                    + (journalPath == null ? "" : "; journal " + journalPath));
            ScenarioRunner runner = new ScenarioRunner(client, Ticker.system(), poll, keepGoing, journal, text);
            ScenarioRunner.Outcome o = runner.run(scenario, file.toString());
            text.accept("summary: " + o.done() + " of " + o.steps() + " steps done, " + o.failed() + " failed, "
                    + (o.steps() - o.done() - o.failed()) + " not run, in "
                    + o.elapsed().toMillis() + " ms"
                    + (journalPath == null ? "" : "; journal " + journalPath));
            return o.exitCode();
        }
    }
}
