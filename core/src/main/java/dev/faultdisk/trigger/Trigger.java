package dev.faultdisk.trigger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One trigger: a condition, its actions and how often it may fire ({@code times}, or until
 * removed). Its counts are evaluated under the engine's lock; the views it returns are copies.
 */
public final class Trigger {
    /** {@link #times()} of a trigger that fires until removed. */
    public static final long UNTIL_REMOVED = Long.MAX_VALUE;

    private final long id;
    private final String name;
    private final Condition condition;
    private final List<TriggerAction> actions;
    private final long times;
    private final Instant added;
    private final Matcher matcher;
    private long fired;
    private final List<Instant> fireTimes = new ArrayList<>();
    private boolean running;

    Trigger(long id, String name, Condition condition, List<TriggerAction> actions, long times, Instant added) {
        this.id = id;
        this.name = name;
        this.condition = condition;
        this.actions = List.copyOf(actions);
        this.times = times;
        this.added = added;
        this.matcher = condition.matcher();
    }

    public long id() {
        return id;
    }

    /** The name given when added, or "trigger-ID". */
    public String name() {
        return name;
    }

    public List<TriggerAction> actions() {
        return actions;
    }

    /** How many times it may fire. */
    public long times() {
        return times;
    }

    Condition condition() {
        return condition;
    }

    /** Offers {@code o}; true if the trigger fires at it. Caller holds the engine's lock. */
    boolean offer(Observation o) {
        if (running || fired >= times || !matcher.offer(o)) {
            return false;
        }
        fired++;
        return true;
    }

    /** Records when it fired (the first few, for query-triggers; the journal has all). */
    void firedAt(Instant time) {
        if (fireTimes.size() < 16) {
            fireTimes.add(time);
        }
    }

    boolean exhausted() {
        return fired >= times;
    }

    /** Set while its command actions run, so that an action can not fire the same trigger again. */
    void running(boolean running) {
        this.running = running;
    }

    long fired() {
        return fired;
    }

    /** The trigger as query-triggers shows it. Caller holds the engine's lock. */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("name", name);
        m.put("when", condition.describe());
        List<Map<String, Object>> acts = new ArrayList<>();
        for (TriggerAction a : actions) {
            acts.add(a.describe());
        }
        m.put("actions", acts);
        m.put("times", times == UNTIL_REMOVED ? "until-removed" : times);
        m.put("fired", fired);
        m.put("added", added.toString());
        List<String> fires = new ArrayList<>();
        fireTimes.forEach(t -> fires.add(t.toString()));
        m.put("fire-times", fires);
        List<String> waiting = new ArrayList<>();
        if (!exhausted()) {
            matcher.progress(waiting);
        }
        m.put("waiting", waiting);
        return m;
    }
}
