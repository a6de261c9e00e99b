package dev.faultdisk.cli;

import dev.faultdisk.client.FaultRule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fault rules written on the command line: {@code TYPE[,KEY=VALUE...]}, e.g.
 * {@code error,ops=write,errno=ENOSPC,times=1} or {@code delay,ops=read+write,ms=10}. Keys are the
 * members docs/faults/ names; a value is a number, true or false, a list joined with '+', or else
 * a string (sizes such as 4K and errno names included). The server checks the rest.
 */
final class FaultSpec {
    private FaultSpec() {}

    static FaultRule rule(String spec) {
        String[] parts = spec.split(",", -1);
        if (parts[0].isBlank() || parts[0].contains("=")) {
            throw new IllegalArgumentException("'" + spec + "': a rule starts with its type, e.g. error,ops=write");
        }
        FaultRule rule = FaultRule.of(parts[0]);
        for (Map.Entry<String, Object> e :
                params(Arrays.asList(parts).subList(1, parts.length), spec).entrySet()) {
            rule = rule.with(e.getKey(), e.getValue());
        }
        return rule;
    }

    /** KEY=VALUE words as a JSON object's members; a key without a value is true. */
    static Map<String, Object> params(List<String> words, String where) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String w : words) {
            int eq = w.indexOf('=');
            String key = eq < 0 ? w : w.substring(0, eq);
            if (key.isBlank()) {
                throw new IllegalArgumentException("'" + where + "': empty key in '" + w + "'");
            }
            m.put(key, eq < 0 ? Boolean.TRUE : value(key, w.substring(eq + 1)));
        }
        return m;
    }

    private static Object value(String key, String text) {
        if (text.contains("+") && !text.startsWith("+")) {
            List<Object> list = new ArrayList<>();
            for (String part : text.split("\\+")) {
                list.add(scalar(part));
            }
            return list;
        }
        // ops is a list even with one operation, as query-faults shows it
        return key.equals("ops") || key.equals("sectors") ? List.of(scalar(text)) : scalar(text);
    }

    private static Object scalar(String text) {
        if (text.equals("true") || text.equals("false")) {
            return Boolean.valueOf(text);
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException notLong) {
            try {
                double d = Double.parseDouble(text);
                if (!Double.isNaN(d) && !Double.isInfinite(d) && !text.matches(".*[a-zA-Z].*")) {
                    return d;
                }
            } catch (NumberFormatException notNumber) {
                // a string: a size, a name
            }
        }
        return text;
    }

    /** A JSON array of rule objects, exactly as fault-add takes them. */
    static List<FaultRule> json(String text, String where) {
        return RuleJson.parse(text, where, FaultRule::fromJson);
    }
}
