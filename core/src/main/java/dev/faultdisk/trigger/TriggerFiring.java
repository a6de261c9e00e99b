package dev.faultdisk.trigger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One firing of a trigger, as TRIGGER_FIRED and the journal report it: the observation that
 * satisfied the condition (for a request: export, connection, operation, offset, length) and what
 * each action did.
 *
 * @param count   how many times the trigger has fired, this one included
 * @param results one entry per action, in order: the action and its outcome
 */
public record TriggerFiring(
        long trigger,
        String name,
        long count,
        Instant time,
        Observation observation,
        List<Map<String, Object>> results) {

    /** The event's data. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", trigger);
        m.put("name", name);
        m.put("count", count);
        Map<String, Object> at = new LinkedHashMap<>();
        at.put("kind", observation.kind().wireName());
        at.put("device", observation.export());
        if (observation.kind() == Observation.Kind.REQUEST) {
            at.put("connection", observation.connection());
            at.put("operation", observation.op().wireName());
            at.put("offset", observation.offset());
            at.put("length", observation.length());
        } else if (observation.detail() != null) {
            at.put("detail", observation.detail());
        }
        m.put("observation", at);
        m.put("actions", new ArrayList<>(results));
        return m;
    }
}
