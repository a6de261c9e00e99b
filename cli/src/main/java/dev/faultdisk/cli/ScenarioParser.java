package dev.faultdisk.cli;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a scenario file (JSON) and checks it completely before anything runs: every problem is
 * reported with its place ({@code steps[2].at}), not just the first.
 */
final class ScenarioParser {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    private static final Set<String> TOP_KEYS = Set.of("name", "description", "device", "timeout", "steps");
    private static final Set<String> STEP_KEYS = Set.of(
            "name",
            "at",
            "after-writes",
            "after-flushes",
            "on-breakpoint",
            "device",
            "timeout",
            "execute",
            "arguments",
            "resume");
    private static final List<String> TRIGGERS = List.of("at", "after-writes", "after-flushes", "on-breakpoint");
    /** The request-counting keys and the operation each counts. */
    private static final Map<String, String> COUNTED = Map.of("after-writes", "write", "after-flushes", "flush");

    private final List<String> problems = new ArrayList<>();

    private ScenarioParser() {}

    static Scenario parse(String text, String source) throws ScenarioException {
        return new ScenarioParser().scenario(text, source);
    }

    private Scenario scenario(String text, String source) throws ScenarioException {
        Object root;
        try {
            root = Json.parse(text);
        } catch (JsonException e) {
            throw new ScenarioException(source, List.of("not valid JSON: " + e.messageWithPlace()));
        }
        if (!(root instanceof Map<?, ?> rootMap)) {
            throw new ScenarioException(
                    source, List.of("a scenario is a JSON object with \"steps\", not " + Json.describe(root)));
        }
        Map<String, Object> top = cast(rootMap);
        unknownKeys(top, TOP_KEYS, "");
        String name = string(top, "name", "", "name");
        String description = string(top, "description", "", "description");
        String device = string(top, "device", null, "device");
        Duration timeout = duration(top, "timeout", DEFAULT_TIMEOUT, "timeout");
        List<Scenario.Step> steps = new ArrayList<>();
        Object rawSteps = top.get("steps");
        if (!(rawSteps instanceof List<?> list) || list.isEmpty()) {
            problems.add("steps: needs a non-empty array of steps");
        } else {
            Duration lastAt = Duration.ZERO;
            String lastAtWhere = null;
            for (int i = 0; i < list.size(); i++) {
                String where = "steps[" + i + "]";
                if (!(list.get(i) instanceof Map<?, ?> m)) {
                    problems.add(where + ": a step is an object, not " + Json.describe(list.get(i)));
                    continue;
                }
                Scenario.Step step = step(cast(m), i + 1, where, device, timeout);
                if (step == null) {
                    continue;
                }
                if (step.trigger() instanceof Scenario.Trigger.At at) {
                    if (at.offset().compareTo(lastAt) < 0) {
                        problems.add(where + ".at: " + Durations.format(at.offset()) + " is earlier than " + lastAtWhere
                                + " (" + Durations.format(lastAt) + "); steps run in order");
                    }
                    lastAt = at.offset();
                    lastAtWhere = where + ".at";
                }
                steps.add(step);
            }
        }
        if (!problems.isEmpty()) {
            throw new ScenarioException(source, problems);
        }
        return new Scenario(name.isEmpty() ? source : name, description, List.copyOf(steps));
    }

    private Scenario.Step step(
            Map<String, Object> m, int index, String where, String defaultDevice, Duration defaultTimeout) {
        int before = problems.size();
        unknownKeys(m, STEP_KEYS, where + ".");
        String name = string(m, "name", "", where + ".name");
        String device = string(m, "device", defaultDevice, where + ".device");
        Duration timeout = duration(m, "timeout", defaultTimeout, where + ".timeout");

        List<String> triggers = TRIGGERS.stream().filter(m::containsKey).toList();
        Scenario.Trigger trigger = new Scenario.Trigger.Next();
        if (triggers.size() > 1) {
            problems.add(where + ": give one trigger, not " + String.join(" and ", triggers));
        } else if (m.containsKey("at")) {
            Duration at = duration(m, "at", null, where + ".at");
            trigger = at == null ? trigger : new Scenario.Trigger.At(at);
        } else if (triggers.size() == 1 && COUNTED.containsKey(triggers.getFirst())) {
            String key = triggers.getFirst();
            if (!(m.get(key) instanceof Long n) || n < 1) {
                problems.add(where + "." + key + ": needs a whole number of " + key.substring("after-".length())
                        + ", at least 1");
            } else if (needDevice(device, where, key)) {
                trigger = new Scenario.Trigger.AfterRequests(COUNTED.get(key), device, n);
            }
        } else if (m.containsKey("on-breakpoint")) {
            String tag = string(m, "on-breakpoint", null, where + ".on-breakpoint");
            if (tag != null && needDevice(device, where, "on-breakpoint")) {
                trigger = new Scenario.Trigger.OnBreakpoint(device, tag);
            }
        }

        Scenario.Action action = null;
        boolean execute = m.containsKey("execute");
        boolean resume = m.containsKey("resume");
        if (execute == resume) {
            problems.add(where + ": give \"execute\" (a QMP command) or \"resume\" (a breakpoint tag)"
                    + (execute ? ", not both" : ""));
        } else if (execute) {
            String command = string(m, "execute", null, where + ".execute");
            Object args = m.getOrDefault("arguments", Map.of());
            if (!(args instanceof Map<?, ?> a)) {
                problems.add(where + ".arguments: must be an object, not " + Json.describe(args));
            } else if (command != null) {
                action = new Scenario.Action.Execute(command, new LinkedHashMap<>(cast(a)));
            }
        } else {
            if (m.containsKey("arguments")) {
                problems.add(where + ".arguments: only with \"execute\"");
            }
            String tag = string(m, "resume", null, where + ".resume");
            if (tag != null && needDevice(device, where, "resume")) {
                action = new Scenario.Action.Resume(device, tag);
            }
        }
        if (problems.size() > before || action == null) {
            return null;
        }
        return new Scenario.Step(index, name, trigger, action, timeout);
    }

    private boolean needDevice(String device, String where, String key) {
        if (device == null) {
            problems.add(where + ": " + key + " needs \"device\" (on the step or the scenario)");
            return false;
        }
        return true;
    }

    private void unknownKeys(Map<String, Object> m, Set<String> known, String prefix) {
        for (String key : m.keySet()) {
            if (!known.contains(key)) {
                problems.add(prefix + key + ": unknown key (expected one of "
                        + known.stream().sorted().toList() + ")");
            }
        }
    }

    private String string(Map<String, Object> m, String key, String absent, String where) {
        if (!m.containsKey(key)) {
            return absent;
        }
        Object v = m.get(key);
        if (!(v instanceof String s) || s.isEmpty()) {
            problems.add(where + ": needs a non-empty string, not " + Json.describe(v));
            return absent;
        }
        return s;
    }

    private Duration duration(Map<String, Object> m, String key, Duration absent, String where) {
        if (!m.containsKey(key)) {
            return absent;
        }
        Object v = m.get(key);
        if (!(v instanceof String s)) {
            problems.add(where + ": needs a duration string such as \"5s\", not " + Json.describe(v));
            return absent;
        }
        try {
            return Durations.parse(s);
        } catch (IllegalArgumentException e) {
            problems.add(where + ": " + e.getMessage());
            return absent;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }
}
