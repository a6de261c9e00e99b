package dev.faultdisk.cli;

import dev.faultdisk.client.BlockInfo;
import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.FaultdiskTimeoutException;
import dev.faultdisk.client.QmpConnectionException;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.client.Suspension;
import dev.faultdisk.client.TriggerInfo;
import dev.faultdisk.wire.json.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Runs a scenario against a server: waits for each step's trigger, runs its command, reports
 * progress and writes the journal. Steps that wait for requests (after-writes, on-breakpoint) run
 * on the server as triggers ({@link StepTriggers}): their command runs inside the request that
 * fires them, and the runner waits for TRIGGER_FIRED. Time comes from a {@link Ticker}, so tests
 * run "at 5s" steps without waiting. {@code poll} is how often the progress shows what a waiting
 * step waits for, if that changed.
 */
record ScenarioRunner(
        FaultdiskClient client,
        Ticker ticker,
        Duration poll,
        boolean keepGoing,
        Journal journal,
        Consumer<String> progress) {
    /** How a run ended. */
    record Outcome(int steps, int done, int failed, Duration elapsed, int exitCode) {}

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
                case Scenario.Trigger.AfterRequests w -> w.device();
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

        Run run = new Run(start, scenario.steps());
        try {
            for (Scenario.Step step : scenario.steps()) {
                if (!run.step(step)) {
                    break;
                }
            }
        } finally {
            run.removeTriggers();
        }
        return run.finish();
    }

    /** The state of one run: when it started, the triggers it armed, and the exit code so far. */
    private final class Run {
        private final Instant start;
        private final List<Scenario.Step> steps;
        private final int total;
        /** Compiled steps whose trigger is on the server, by step index. */
        private final Map<Integer, Long> armed = new HashMap<>();
        /** On-breakpoint steps whose request was held before their trigger could be added: they run from here. */
        private final Set<Integer> heldAlready = new HashSet<>();
        /** Every trigger this run added and has not removed. */
        private final Set<Long> added = new LinkedHashSet<>();

        private int done;
        private int failed;
        private int exit = ExitCodes.OK;

        Run(Instant start, List<Scenario.Step> steps) {
            this.start = start;
            this.steps = steps;
            this.total = steps.size();
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
            String command = step.action().command();
            Map<String, Object> args = step.action().arguments();
            String when;
            Event fired = null;
            try {
                if (StepTriggers.compiled(step.trigger())
                        && !armed.containsKey(step.index())
                        && !heldAlready.contains(step.index())) {
                    String refused = arm(step.index());
                    if (refused != null) {
                        entry.put("elapsed-ms", elapsed(start).toMillis());
                        entry.put("trigger", trigger);
                        entry.put("execute", command);
                        entry.put("arguments", args);
                        entry.put("outcome", "error");
                        entry.put("error", Map.of("class", "GenericError", "desc", refused));
                        journal.write(entry);
                        progress.accept(stamp(start) + label + ": trigger-add -> GenericError: " + refused);
                        return failed(ExitCodes.REFUSED);
                    }
                }
                Long id = armed.get(step.index());
                if (id != null) {
                    fired = awaitFiring(step, id, label, trigger);
                    when = fired(step, fired, trigger);
                } else {
                    when = await(step, start, trigger);
                }
            } catch (FaultdiskTimeoutException e) {
                disarm();
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
            entry.put("execute", command);
            entry.put("arguments", args);
            String what = label + when + ": " + command + (args.isEmpty() ? "" : " " + abbreviate(Json.write(args)));
            if (fired != null) {
                return reportFired(fired, entry, what);
            }
            try {
                armNextBreakpoint(step);
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

        /** The outcome of a command a trigger ran, from its TRIGGER_FIRED. */
        private boolean reportFired(Event fired, Map<String, Object> entry, String what) {
            Map<?, ?> result = (Map<?, ?>) ((List<?>) fired.data().get("actions")).getFirst();
            if (result.containsKey("error")) {
                String desc = String.valueOf(result.get("error"));
                entry.put("outcome", "error");
                entry.put("error", Map.of("class", "GenericError", "desc", desc));
                journal.write(entry);
                progress.accept(stamp(start) + what + " -> GenericError: " + desc);
                return failed(ExitCodes.REFUSED);
            }
            entry.put("outcome", "ok");
            entry.put("return", result.get("return"));
            journal.write(entry);
            progress.accept(stamp(start) + what + " -> ok");
            done++;
            return true;
        }

        /**
         * Adds the triggers of the compiled steps from {@code index} on, up to the next step that
         * runs here, in one call; returns the server's refusal, or null. An on-breakpoint step
         * whose request is held already runs from here instead.
         */
        private String arm(int index) {
            Scenario.Step first = steps.get(index - 1);
            if (first.trigger() instanceof Scenario.Trigger.OnBreakpoint b
                    && !client.queryBlkdebugBreakpoints(b.device())
                            .suspended(b.tag())
                            .isEmpty()) {
                heldAlready.add(index);
                return null;
            }
            List<Scenario.Step> group = new ArrayList<>();
            for (int i = index - 1;
                    i < steps.size()
                            && group.size() < StepTriggers.MAX_GROUP
                            && StepTriggers.compiled(steps.get(i).trigger());
                    i++) {
                group.add(steps.get(i));
            }
            List<Long> ids;
            try {
                ids = add(group);
            } catch (QmpException e) {
                if (group.size() == 1) {
                    return e.desc();
                }
                try { // a later step's refusal must not fail this one: that step will try again
                    group = group.subList(0, 1);
                    ids = add(group);
                } catch (QmpException alone) {
                    return alone.desc();
                }
            }
            for (int i = 0; i < ids.size(); i++) {
                armed.put(group.get(i).index(), ids.get(i));
            }
            return null;
        }

        private List<Long> add(List<Scenario.Step> group) {
            Map<?, ?> reply = (Map<?, ?>)
                    client.execute("trigger-add", FaultdiskClient.args("triggers", StepTriggers.group(group)));
            List<Long> ids = new ArrayList<>();
            for (Object id : (List<?>) reply.get("ids")) {
                ids.add((Long) id);
            }
            added.addAll(ids);
            return ids;
        }

        /**
         * Before a step that runs here sends its command: arms the next step if it waits for a
         * breakpoint, so a hit the command makes possible (it may set the breakpoint) is not missed.
         */
        private void armNextBreakpoint(Scenario.Step step) {
            if (step.index() < steps.size()
                    && steps.get(step.index()).trigger() instanceof Scenario.Trigger.OnBreakpoint
                    && !armed.containsKey(step.index() + 1)
                    && !heldAlready.contains(step.index() + 1)) {
                arm(step.index() + 1);
            }
        }

        /** Waits for the step's TRIGGER_FIRED, showing what it waits for when that changes. */
        private Event awaitFiring(Scenario.Step step, long id, String label, Map<String, Object> trigger) {
            describe(step.trigger(), trigger);
            trigger.put("trigger", id);
            long deadline = System.nanoTime() + step.timeout().toNanos();
            String shown = null;
            while (true) {
                String waiting = waiting(id);
                if (waiting != null && !waiting.equals(shown)) {
                    progress.accept(stamp(start) + label + ": " + waiting);
                    shown = waiting;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new FaultdiskTimeoutException(timedOut(step, shown));
                }
                try {
                    return client.awaitEvent(
                            "TRIGGER_FIRED",
                            e -> e.data().get("id") instanceof Long fired && fired == id,
                            Duration.ofNanos(Math.min(left, poll.toNanos())));
                } catch (FaultdiskTimeoutException notYet) {
                    // show the progress again, then go on waiting
                }
            }
        }

        /** What trigger {@code id} waits for now ("waiting: 12/21 write on disk0"), or null if nothing (any more). */
        private String waiting(long id) {
            for (TriggerInfo t : client.queryTriggers()) {
                if (t.id() == id && !t.waiting().isEmpty()) {
                    return TriggersCommand.waiting(t);
                }
            }
            return null;
        }

        /** Removes the triggers of the steps still waiting: after a timeout, each is armed again when reached. */
        private void disarm() {
            remove(armed.values());
            armed.clear();
        }

        /** Removes every trigger the run added (fired ones stay listed until removed). */
        void removeTriggers() {
            armed.clear();
            if (client.isOpen()) {
                remove(new ArrayList<>(added));
            }
        }

        private void remove(Collection<Long> ids) {
            for (long id : List.copyOf(ids)) {
                try {
                    client.triggerRemove(id);
                } catch (QmpException | QmpConnectionException | FaultdiskTimeoutException e) {
                    // removed by someone else (trigger-clear), or the connection is gone with the run
                }
                added.remove(id);
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

    /** The step's trigger as the journal records it, before it fired. */
    private static void describe(Scenario.Trigger t, Map<String, Object> trigger) {
        switch (t) {
            case Scenario.Trigger.AfterRequests w -> {
                trigger.put(w.key(), w.count());
                trigger.put("device", w.device());
            }
            case Scenario.Trigger.OnBreakpoint b -> {
                trigger.put("on-breakpoint", b.tag());
                trigger.put("device", b.device());
            }
            default -> {}
        }
    }

    private static String timedOut(Scenario.Step step, String waiting) {
        String within = " within " + Durations.format(step.timeout());
        return switch (step.trigger()) {
            case Scenario.Trigger.OnBreakpoint b ->
                "no request hit breakpoint " + b.tag() + " on " + b.device() + within;
            case Scenario.Trigger.AfterRequests w ->
                "no " + w.op() + " after the first " + w.count() + " on " + w.device() + within
                        + (waiting == null ? "" : " (" + waiting + ")");
            default -> "the trigger did not fire" + within;
        };
    }

    /** Fills the journal's trigger from a compiled step's firing; returns a phrase for progress. */
    private String fired(Scenario.Step step, Event fired, Map<String, Object> trigger) {
        Map<?, ?> at = (Map<?, ?>) fired.data().get("observation");
        return switch (step.trigger()) {
            case Scenario.Trigger.AfterRequests w -> {
                trigger.put(w.plural(), w.count());
                Map<String, Object> request = new LinkedHashMap<>();
                for (String key : List.of("operation", "offset", "length", "connection")) {
                    request.put(key, at.get(key));
                }
                trigger.put("in", request);
                yield " after " + w.count() + " " + (w.count() == 1 ? w.op() : w.plural()) + " on " + w.device()
                        + " (inside the next: " + at.get("operation") + " of " + at.get("length") + " bytes at "
                        + at.get("offset") + ")";
            }
            case Scenario.Trigger.OnBreakpoint b -> hit(b, trigger);
            default -> throw new IllegalStateException("not a compiled step: " + step.trigger());
        };
    }

    /** The request held at the breakpoint, from its BLKDEBUG_SUSPENDED event. */
    private String hit(Scenario.Trigger.OnBreakpoint b, Map<String, Object> trigger) {
        Event e = client.awaitEvent(
                "BLKDEBUG_SUSPENDED",
                ev -> b.device().equals(ev.device()) && b.tag().equals(ev.string("tag")),
                client.timeout());
        Suspension s = Suspension.from(e);
        trigger.put("hit", Suspensions.json(s));
        return " on breakpoint " + b.tag() + " (" + s.device() + " " + s.operation() + " of " + s.length()
                + " bytes at " + s.offset() + ")";
    }

    /** Waits for a step's trigger that runs here; fills {@code trigger} for the journal and returns a phrase for progress. */
    private String await(Scenario.Step step, Instant start, Map<String, Object> trigger) throws InterruptedException {
        return switch (step.trigger()) {
            case Scenario.Trigger.Next n -> "";
            case Scenario.Trigger.At at -> {
                trigger.put("at", Durations.format(at.offset()));
                Instant target = start.plus(at.offset());
                for (Duration left = Duration.between(ticker.now(), target);
                        left.isPositive();
                        left = Duration.between(ticker.now(), target)) {
                    ticker.sleep(left);
                }
                Duration late = Duration.between(target, ticker.now());
                yield " at " + Durations.format(at.offset())
                        + (late.compareTo(Duration.ofMillis(100)) > 0
                                ? " (late by " + late.toMillis() + " ms: the previous step took longer)"
                                : "");
            }
            case Scenario.Trigger.OnBreakpoint b -> { // its request was held before its trigger could be added
                describe(b, trigger);
                yield hit(b, trigger);
            }
            case Scenario.Trigger.AfterRequests w -> throw new IllegalStateException(w.key() + " runs on the server");
        };
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
