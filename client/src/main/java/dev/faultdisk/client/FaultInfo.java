package dev.faultdisk.client;

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
public record FaultInfo(String device, long id, String type, String label, String state, long matched, long chosen,
                        long fired, FaultRule rule, Map<String, Object> raw) {

    static FaultInfo from(Object value) {
        Map<String, Object> m = Values.object(value, "query-faults entry");
        return new FaultInfo(Values.string(m, "device"), Values.integer(m, "id"), Values.string(m, "type"),
                Values.string(m, "label", ""), Values.string(m, "state"), Values.integer(m, "matched"),
                Values.integer(m, "chosen"), Values.integer(m, "fired"),
                FaultRule.fromJson(Values.object(m, "rule")), m);
    }
}
