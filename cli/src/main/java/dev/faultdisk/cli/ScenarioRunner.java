package dev.faultdisk.cli;

import dev.faultdisk.client.BlockInfo;
import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.FaultdiskTimeoutException;
import dev.faultdisk.client.QmpConnectionException;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.client.Suspension;
import dev.faultdisk.wire.json.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Runs a scenario against a server: waits for each step's trigger, runs its command, reports
 * progress and writes the journal. Time comes from a {@link Ticker}, so tests run "at 5s" steps
 * without waiting.
 */
final class ScenarioRunner {
    /** How a run ended. */
    record Outcome(int steps, int done, int failed, Duration elapsed, int exitCode) {}

    private final FaultdiskClient client;
    private final Ticker ticker;
    private final Duration poll;
    private final boolean keepGoing;
    private final Journal journal;
    private final Consumer<String> progress;

    ScenarioRunner(
            FaultdiskClient client,
            Ticker ticker,
            Duration poll,
            boolean keepGoing,
            Journal journal,
            Consumer<String> progress) {
        this.client = client;
        this.ticker = ticker;
        this.poll = poll;
        this.keepGoing = keepGoing;
        this.journal = journal;
        this.progress = progress;
    }

    /** Problems that make the scenario unrunnable on this server: unknown commands and exports. */
    static List<String> check(Scenario scenario, FaultdiskClient client) {
        Set<String> commands = new TreeSet<>(client.queryCommands());
        Set<String> devices = new TreeSet<>(
                client.queryBlock().stream().map(BlockInfo::device).toList());
        List<String> problems = new ArrayList<>();
        for (Scenario.Step step : scenario.steps()) {
            String where = "step " + step.index();
            String command = step.action().command();
            if (!commands.contains(command)) {
                problems.add(where + ": the server has no command '" + command
                        + "' (faultdisk qmp query-commands lists them)");
            }
            String device = switch (step.trigger()) {
                case Scenario.Trigger.AfterWrites w -> w.device();
                case Scenario.Trigger.OnBreakpoint b -> b.device();
                default -> null;
            };
            if (device != null && !devices.contains(device)) {
                problems.add(where + ": the server has no export '" + device + "' (it has " + devices + ")");
            }
            if (step.action() instanceof Scenario.Action.Resume r && !devices.contains(r.device())) {
                problems.add(where + ": the server has no export '" + r.device() + "' (it has " + devices + ")");
            }
        }
        return problems;
    }

    /** Runs the steps in order, journaling each, until one fails (unless keep-going) or all ran. */
    Outcome run(Scenario scenario, String source) {
        Instant start = ticker.now();
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("journal", Journal.FORMAT);
        header.put("version", 1);
        header.put("scenario", scenario.name());
        header.put("source", source);
        header.put("server", client.address());
        header.put("started", start.toString());
        journal.write(header);

        Run run = new Run(start, scenario.steps().size(), writeBaselines(scenario));
        for (Scenario.Step step : scenario.steps()) {
            if (!run.step(step)) {
                break;
            }
        }
        return run.finish();
    }

    /** Each after-writes export's write count now: its trigger counts the writes since. */
    private Map<String, Long> writeBaselines(Scenario scenario) {
        Map<String, Long> baseline = new HashMap<>();
        for (Scenario.Step step : scenario.steps()) {
            if (step.trigger() instanceof Scenario.Trigger.AfterWrites w && !baseline.containsKey(w.device())) {
                baseline.put(w.device(), client.queryBlockstats(w.device()).writes());
            }
        }
        return baseline;
    }

    /** The state of one run: when it started, what it counted, and the exit code so far. */
    private final class Run {
        private final Instant start;
        private final int total;
        private final Map<String, Long> baseline;
        private int done;
        private int failed;
        private int exit = ExitCodes.OK;

        Run(Instant start, int total, Map<String, Long> baseline) {
            this.start = start;
            this.total = total;
            this.baseline = baseline;
        }

        /** Waits for the step's trigger and runs its command; returns whether the run goes on. */
        boolean step(Scenario.Step step) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("step", step.index());
            if (!step.name().isEmpty()) {
                entry.put("name", step.name());
            }
            String label =
                    "step " + step.index() + "/" + total + (step.name().isEmpty() ? "" : " \"" + step.name() + "\"");
            Map<String, Object> trigger = new LinkedHashMap<>();
            String when;
            try {
                when = await(step, start, baseline, trigger);
            } catch (FaultdiskTimeoutException e) {
                entry.put("elapsed-ms", elapsed(start).toMillis());
                entry.put("trigger", trigger);
                entry.put("outcome", "timeout");
                entry.put("error", e.getMessage());
                journal.write(entry);
                progress.accept(stamp(start) + label + ": timed out: " + e.getMessage());
                return failed(ExitCodes.TIMEOUT);
            } catch (QmpConnectionException e) {
                return connectionLost(label + ": connection lost: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                progress.accept(stamp(start) + label + ": interrupted");
                exit = firstFailure(exit, ExitCodes.TIMEOUT);
                return false;
            }
            entry.put("elapsed-ms", elapsed(start).toMillis());
            entry.put("trigger", trigger);
            String command = step.action().command();
            Map<String, Object> args = step.action().arguments();
            entry.put("execute", command);
            entry.put("arguments", args);
            String what = label + when + ": " + command + (args.isEmpty() ? "" : " " + abbreviate(Json.write(args)));
            try {
                Object result = client.execute(command, args);
                entry.put("outcome", "ok");
                entry.put("return", result);
                journal.write(entry);
                progress.accept(stamp(start) + what + " -> ok");
                done++;
                return true;
            } catch (QmpException e) {
                entry.put("outcome", "error");
                entry.put("error", Map.of("class", e.errorClass(), "desc", e.desc()));
                journal.write(entry);
                progress.accept(stamp(start) + what + " -> " + e.errorClass() + ": " + e.desc());
                return failed(ExitCodes.REFUSED);
            } catch (QmpConnectionException e) {
                return connectionLost(what + " -> connection lost: " + e.getMessage());
            }
        }

        /** A step failed with {@code code}: the first failure's code stays the run's; goes on only with keep-going. */
        private boolean failed(int code) {
            failed++;
            exit = firstFailure(exit, code);
            return keepGoing;
        }

        /** Without a connection no later step can run, whatever keep-going says. */
        private boolean connectionLost(String what) {
            progress.accept(stamp(start) + what);
            failed++;
            exit = ExitCodes.CANNOT_CONNECT;
            return false;
        }

        /** Journals the summary and returns the outcome. */
        Outcome finish() {
            Duration elapsed = elapsed(start);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("steps", total);
            summary.put("done", done);
            summary.put("failed", failed);
            summary.put("not-run", total - done - failed);
            summary.put("elapsed-ms", elapsed.toMillis());
            summary.put("exit", exit);
            journal.write(Map.of("summary", summary));
            return new Outcome(total, done, failed, elapsed, exit);
        }
    }

    /** Waits for the step's trigger; fills {@code trigger} for the journal and returns a phrase for progress. */
    private String await(Scenario.Step step, Instant start, Map<String, Long> baseline, Map<String, Object> trigger)
            throws InterruptedException {
        switch (step.trigger()) {
            case Scenario.Trigger.Next n -> {
                return "";
            }
            case Scenario.Trigger.At at -> {
                trigger.put("at", Durations.format(at.offset()));
                Instant target = start.plus(at.offset());
                for (Duration left = Duration.between(ticker.now(), target);
                        left.isPositive();
                        left = Duration.between(ticker.now(), target)) {
                    ticker.sleep(left);
                }
                Duration late = Duration.between(target, ticker.now());
                return " at " + Durations.format(at.offset())
                        + (late.compareTo(Duration.ofMillis(100)) > 0
                                ? " (late by " + late.toMillis() + " ms: the previous step took longer)"
                                : "");
            }
            case Scenario.Trigger.AfterWrites w -> {
                trigger.put("after-writes", w.count());
                trigger.put("device", w.device());
                Instant deadline = ticker.now().plus(step.timeout());
                while (true) {
                    long writes = client.queryBlockstats(w.device()).writes() - baseline.get(w.device());
                    if (writes >= w.count()) {
                        trigger.put("writes", writes);
                        return " after " + w.count() + " writes on " + w.device() + " (" + writes + " seen)";
                    }
                    if (!ticker.now().isBefore(deadline)) {
                        throw new FaultdiskTimeoutException(w.device() + " served " + writes + " of " + w.count()
                                + " writes within " + Durations.format(step.timeout()));
                    }
                    ticker.sleep(poll);
                }
            }
            case Scenario.Trigger.OnBreakpoint b -> {
                trigger.put("on-breakpoint", b.tag());
                trigger.put("device", b.device());
                Event e;
                try {
                    e = client.awaitEvent(
                            "BLKDEBUG_SUSPENDED",
                            ev -> b.device().equals(ev.device()) && b.tag().equals(ev.string("tag")),
                            step.timeout());
                } catch (FaultdiskTimeoutException timeout) {
                    throw new FaultdiskTimeoutException("no request hit breakpoint " + b.tag() + " on " + b.device()
                            + " within " + Durations.format(step.timeout()));
                }
                Suspension s = Suspension.from(e);
                trigger.put("hit", Suspensions.json(s));
                return " on breakpoint " + b.tag() + " (" + s.device() + " " + s.operation() + " of " + s.length()
                        + " bytes at " + s.offset() + ")";
            }
        }
    }

    private Duration elapsed(Instant start) {
        return Duration.between(start, ticker.now());
    }

    private String stamp(Instant start) {
        long ms = elapsed(start).toMillis();
        return String.format(Locale.ROOT, "[%4d.%03ds] ", ms / 1000, ms % 1000);
    }

    /** The exit code after a failure with {@code code}: the run's first failure decides it. */
    private static int firstFailure(int exit, int code) {
        return exit == ExitCodes.OK ? code : exit;
    }

    private static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 157) + "...";
    }
}
