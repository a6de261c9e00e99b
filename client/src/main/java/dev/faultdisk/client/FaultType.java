package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.util.List;

/**
 * A fault type as {@code query-fault-types} lists it.
 *
 * @param name       e.g. {@code torn-write}
 * @param summary    one line for people
 * @param ops        the operations it may target
 * @param defaultOps those it targets without {@code ops}
 */
public record FaultType(String name, String summary, List<String> ops, List<String> defaultOps) {

    static FaultType from(Object value) {
        Members m = Replies.object(value, "query-fault-types entry");
        return new FaultType(m.string("name"), m.string("summary", ""), strings(m, "ops"), strings(m, "default-ops"));
    }

    private static List<String> strings(Members m, String key) {
        return m.list(key).stream().map(String::valueOf).toList();
    }
}
