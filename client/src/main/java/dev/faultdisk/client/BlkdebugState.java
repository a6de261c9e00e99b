package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.List;

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
        Members m = Replies.object(value, "query-blkdebug-rules reply");
        List<BlkdebugRule> rules = new ArrayList<>();
        for (Object r : m.list("rules")) {
            rules.add(BlkdebugRule.fromJson(Replies.object(r, "rules[]").asMap()));
        }
        List<Integer> armed = new ArrayList<>();
        for (Object a : m.list("armed")) {
            armed.add(Replies.intValue(a, "armed[]"));
        }
        return new BlkdebugState(
                Replies.intValue(m.asMap().get("state"), "state"), List.copyOf(rules), List.copyOf(armed));
    }
}
