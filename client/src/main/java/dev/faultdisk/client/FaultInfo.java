package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.util.Map;

/**
 * One fault rule as {@code query-faults} lists it.
 *
 * @param device  the export
 * @param id      the rule's id
 * @param type    e.g. {@code error}
 * @param label   the rule's label, or empty
 * @param state   waiting, active, expired or exhausted
 * @param matched requests that matched it
 * @param chosen  matching requests it chose
 * @param fired   faults it injected
 * @param rule    its definition as accepted (seed included)
 * @param raw     the whole entry
 */
public record FaultInfo(
        String device,
        long id,
        String type,
        String label,
        String state,
        long matched,
        long chosen,
        long fired,
        FaultRule rule,
        Map<String, Object> raw) {

    static FaultInfo from(Object value) {
        Members m = Replies.object(value, "query-faults entry");
        return new FaultInfo(
                m.string("device"),
                m.integer("id"),
                m.string("type"),
                m.string("label", ""),
                m.string("state"),
                m.integer("matched"),
                m.integer("chosen"),
                m.integer("fired"),
                FaultRule.fromJson(m.object("rule").asMap()),
                m.asMap());
    }
}
