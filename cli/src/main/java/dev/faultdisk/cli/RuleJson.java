package dev.faultdisk.cli;

import dev.faultdisk.wire.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Reads a JSON array of rule objects given on the command line (--rules, --rules-file). */
final class RuleJson {
    private RuleJson() {}

    /** Each object of the array, converted with {@code rule}; errors name {@code where}. */
    static <T> List<T> parse(String text, String where, Function<Map<String, Object>, T> rule) {
        Object value;
        try {
            value = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(where + ": expected a JSON array of rule objects");
        }
        List<T> rules = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(where + ": every rule must be an object, not " + Json.describe(o));
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> object = (Map<String, Object>) m;
            rules.add(rule.apply(object));
        }
        return rules;
    }
}
