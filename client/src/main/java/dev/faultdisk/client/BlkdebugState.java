package dev.faultdisk.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An export's blkdebug rules as {@code query-blkdebug-rules} returns them.
 *
 * @param state the state machine's current state
 * @param rules the rules, in definition order
 * @param armed indexes into {@code rules} of the inject-error rules armed now
 */
public record BlkdebugState(int state, List<BlkdebugRule> rules, List<Integer> armed) {

    /** From the JSON form (query-blkdebug-rules' reply, or query-block's {@code blkdebug} member). */
    public static BlkdebugState from(Object value) {
        Map<String, Object> m = Values.object(value, "query-blkdebug-rules reply");
        List<BlkdebugRule> rules = new ArrayList<>();
        for (Object r : Values.list(m, "rules")) {
            rules.add(BlkdebugRule.fromJson(Values.object(r, "rules[]")));
        }
        List<Integer> armed = new ArrayList<>();
        for (Object a : Values.list(m, "armed")) {
            armed.add(Values.intValue(a, "armed[]"));
        }
        return new BlkdebugState(Values.intValue(m.get("state"), "state"), List.copyOf(rules), List.copyOf(armed));
    }
}
