package dev.faultdisk.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles scenario steps that wait for requests into server triggers (docs/TRIGGERS.md), so that
 * "after 20 writes" acts inside the 21st write whatever the pace (and "after 3 flushes" inside
 * the 4th flush). Consecutive such steps become
 * one group, added in one call: a later step's condition is the sequence of the steps before it
 * and its own, so it starts counting exactly where the step before it fired.
 */
final class StepTriggers {
    /** A sequence holds at most 64 parts. */
    static final int MAX_GROUP = 64;

    private StepTriggers() {}

    /** True if the step's trigger runs on the server. */
    static boolean compiled(Scenario.Trigger trigger) {
        return trigger instanceof Scenario.Trigger.AfterRequests || trigger instanceof Scenario.Trigger.OnBreakpoint;
    }

    /** The step's own condition, counted from when its trigger is added. */
    static Map<String, Object> condition(Scenario.Trigger trigger) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (trigger) {
            case Scenario.Trigger.AfterRequests w -> {
                m.put("device", w.device());
                m.put("ops", List.of(w.op()));
                m.put("after", w.count());
            }
            case Scenario.Trigger.OnBreakpoint b -> {
                m.put("event", "breakpoint-hit");
                m.put("device", b.device());
                m.put("tag", b.tag());
            }
            default -> throw new IllegalArgumentException("not a compiled step: " + trigger);
        }
        return m;
    }

    /** The triggers of {@code group} (consecutive compiled steps), in order: each runs its step's command once. */
    static List<Map<String, Object>> group(List<Scenario.Step> group) {
        List<Map<String, Object>> triggers = new ArrayList<>();
        List<Object> chain = new ArrayList<>();
        for (Scenario.Step step : group) {
            chain.add(condition(step.trigger()));
            Map<String, Object> action = new LinkedHashMap<>();
            action.put("execute", step.action().command());
            action.put("arguments", step.action().arguments());
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", "scenario step " + step.index());
            t.put("when", chain.size() == 1 ? chain.getFirst() : Map.of("sequence", List.copyOf(chain)));
            t.put("actions", List.of(action));
            triggers.add(t);
        }
        return triggers;
    }
}
