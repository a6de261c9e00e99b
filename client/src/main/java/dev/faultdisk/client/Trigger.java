package dev.faultdisk.client;

import dev.faultdisk.wire.json.JsonConvertible;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trigger for {@code trigger-add}: a condition and the actions that run inside the request that
 * satisfies it (docs/TRIGGERS.md). Immutable; every method returns a new trigger.
 *
 * <pre>{@code
 * Trigger.when(TriggerCondition.requests("disk0", BlockOp.WRITE).after(20))
 *        .then(TriggerAction.hold(), TriggerAction.execute("write-cache-arm-flush-error", args("device", "disk0")))
 * }</pre>
 */
public final class Trigger implements JsonConvertible {
    private final Map<String, Object> members;

    private Trigger(Map<String, Object> members) {
        this.members = members;
    }

    public static Trigger when(TriggerCondition condition) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("when", condition);
        return new Trigger(m);
    }

    public Trigger then(TriggerAction... actions) {
        return with("actions", List.of(actions));
    }

    public Trigger name(String name) {
        return with("name", name);
    }

    /** Fires at most {@code n} times (default 1). */
    public Trigger times(long n) {
        return with("times", n);
    }

    /** Fires until removed. */
    public Trigger repeat() {
        return with("repeat", true);
    }

    private Trigger with(String name, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(members);
        m.put(name, value);
        return new Trigger(m);
    }

    @Override
    public Object toJson() {
        return members;
    }
}
