package dev.faultdisk.cli;

import dev.faultdisk.wire.json.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A journal read back as a scenario: every command that ran (ok or refused) runs again at the
 * moment it ran, except steps triggered by requests: an after-writes step again acts inside the
 * same write (counted from where the step became current), an on-breakpoint step again waits for
 * its breakpoint (a resume sent before its request is held would fail).
 */
final class JournalReplay {
    private JournalReplay() {}

    static Scenario scenario(String text, String source) throws ScenarioException {
        List<String> problems = new ArrayList<>();
        List<Scenario.Step> steps = new ArrayList<>();
        String name = null;
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String where = "line " + (i + 1);
            if (lines[i].isBlank()) {
                continue;
            }
            Map<String, Object> entry;
            try {
                entry = Json.parseObject(lines[i]);
            } catch (IllegalArgumentException e) {
                problems.add(where + ": " + e.getMessage());
                continue;
            }
            if (name == null) {
                if (!Journal.FORMAT.equals(entry.get("journal"))) {
                    throw new ScenarioException(
                            source,
                            List.of("not a faultdisk scenario journal (its first line has no " + "\"journal\": \""
                                    + Journal.FORMAT + "\")"));
                }
                name = "replay of " + entry.get("scenario");
                continue;
            }
            Object outcome = entry.get("outcome");
            if (!"ok".equals(outcome) && !"error".equals(outcome)) {
                continue; // the summary, or a step that never ran
            }
            if (!(entry.get("execute") instanceof String command)
                    || !(entry.get("arguments") instanceof Map<?, ?> a)
                    || !(entry.get("elapsed-ms") instanceof Long ms)
                    || !(entry.get("trigger") instanceof Map<?, ?> t)) {
                problems.add(where + ": a step entry needs execute, arguments, elapsed-ms and trigger");
                continue;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> args = new LinkedHashMap<>((Map<String, Object>) a);
            Scenario.Trigger trigger;
            if (t.get("on-breakpoint") instanceof String tag && t.get("device") instanceof String device) {
                trigger = new Scenario.Trigger.OnBreakpoint(device, tag);
            } else if (t.get("after-writes") instanceof Long n && t.get("device") instanceof String device) {
                trigger = new Scenario.Trigger.AfterRequests("write", device, n);
            } else if (t.get("after-flushes") instanceof Long n && t.get("device") instanceof String device) {
                trigger = new Scenario.Trigger.AfterRequests("flush", device, n);
            } else {
                trigger = new Scenario.Trigger.At(Duration.ofMillis(ms));
            }
            String stepName = entry.get("name") instanceof String n ? n : "";
            steps.add(new Scenario.Step(
                    steps.size() + 1,
                    stepName,
                    trigger,
                    new Scenario.Action.Execute(command, args),
                    ScenarioParser.DEFAULT_TIMEOUT));
        }
        if (name == null) {
            problems.add("the journal is empty");
        } else if (steps.isEmpty() && problems.isEmpty()) {
            problems.add("the journal holds no step that ran");
        }
        if (!problems.isEmpty()) {
            throw new ScenarioException(source, problems);
        }
        return new Scenario(name, "", List.copyOf(steps));
    }
}
