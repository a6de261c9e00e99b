package dev.faultdisk.client;

import java.util.List;
import java.util.Map;

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
        Map<String, Object> m = Values.object(value, "query-fault-types entry");
        return new FaultType(Values.string(m, "name"), Values.string(m, "summary", ""), strings(m, "ops"),
                strings(m, "default-ops"));
    }

    private static List<String> strings(Map<String, Object> m, String key) {
        return Values.list(m, key).stream().map(String::valueOf).toList();
    }
}
