package dev.faultdisk.fault;

import dev.faultdisk.wire.Suggestions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named profiles composed of ordinary rules (listed, counted and removable like any other),
 * each labelled with the preset's name:
 * <ul>
 * <li>{@code limping-disk}: slow, not failed: log-normal delays (median, p99) and optionally a
 * bandwidth limit;</li>
 * <li>{@code dying-disk}: bad sectors that grow, rare errors, latency that worsens over time;</li>
 * <li>{@code flaky-disk}: dm-flakey's cycle: works for {@code up-ms}, then misbehaves for
 * {@code down-ms} (errors, dropped writes or corrupt reads), repeating.</li>
 * </ul>
 */
public final class Presets {
    public static final List<String> NAMES = List.of("limping-disk", "dying-disk", "flaky-disk");
    static final List<String> FLAKY_MODES =
            List.of("error", "error-reads", "error-writes", "drop-writes", "corrupt-reads");

    private Presets() {}

    /** The rules a preset composes, as maps {@link FaultEngine#add} takes. */
    public static List<Map<String, Object>> rules(String preset, Map<String, ?> params, String path) {
        RuleParams p = RuleParams.of(params == null ? Map.of() : params, path);
        List<Map<String, Object>> rules = switch (preset) {
            case "limping-disk" -> limping(p);
            case "dying-disk" -> dying(p);
            case "flaky-disk" -> flaky(p);
            default ->
                throw new FaultRuleException("unknown preset '" + preset + "' ("
                        + Suggestions.closest(preset, NAMES)
                                .map(s -> "did you mean " + s + "? ")
                                .orElse("") + "known: " + String.join(", ", NAMES) + ")");
        };
        Long seed = p.has("seed") ? p.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE) : null;
        Object offset = p.has("offset") ? p.size("offset", 0, 0, Long.MAX_VALUE) : null;
        Object length = p.has("length") ? p.size("length", 0, 1, Long.MAX_VALUE) : null;
        String label = p.string("label", preset);
        p.rejectUnused("the " + preset + " preset");
        for (int i = 0; i < rules.size(); i++) {
            Map<String, Object> r = rules.get(i);
            r.put("label", label);
            if (seed != null) {
                r.put("seed", seed + i);
            }
            if (offset != null) {
                r.put("offset", offset);
            }
            if (length != null) {
                r.put("length", length);
            }
        }
        return rules;
    }

    private static List<Map<String, Object>> limping(RuleParams p) {
        List<String> ops = p.has("ops") ? p.strings("ops") : List.of("read", "write", "flush");
        List<Map<String, Object>> rules = new ArrayList<>();
        double median = millis(p, "median-ms", 20, 0.001);
        double p99 = millis(p, "p99-ms", 200, 0.001);
        rules.add(rule("delay", "ops", ops, "distribution", "lognormal", "median-ms", median, "p99-ms", p99));
        long bps = p.size("bytes-per-second", 0, 1, Long.MAX_VALUE);
        if (bps > 0) {
            rules.add(rule("throttle", "ops", ops, "bytes-per-second", bps));
        }
        return rules;
    }

    private static List<Map<String, Object>> dying(RuleParams p) {
        List<Map<String, Object>> rules = new ArrayList<>();
        rules.add(rule(
                "bad-sector",
                "count",
                p.integer("bad-sectors", 16, 0, 1_000_000),
                "grow-probability",
                p.number("grow-probability", 0.01, 0, 1)));
        double errors = p.number("error-probability", 0.001, 0, 1);
        if (errors > 0) {
            rules.add(rule("error", "ops", List.of("read", "write", "flush"), "probability", errors));
        }
        double slowTo = millis(p, "slow-to-ms", 100, 0);
        double over = millis(p, "over-ms", 600_000, 0.001);
        rules.add(rule("delay", "distribution", "ramp", "from-ms", 0, "to-ms", slowTo, "over-ms", over));
        return rules;
    }

    private static List<Map<String, Object>> flaky(RuleParams p) {
        double up = millis(p, "up-ms", 5000, 0);
        double down = millis(p, "down-ms", 1000, 0.001);
        String mode = p.choice("mode", "error", FLAKY_MODES);
        Map<String, Object> r = switch (mode) {
            case "error" -> rule("error", "ops", List.of("read", "write", "flush", "trim", "write-zeroes"));
            case "error-reads" -> rule("error", "ops", List.of("read"));
            case "error-writes" -> rule("error", "ops", List.of("write", "write-zeroes", "trim"));
            case "drop-writes" -> rule("lost-write", "ops", List.of("write", "write-zeroes", "trim"));
            case "corrupt-reads" -> rule("corrupt", "ops", List.of("read"), "mode", "garbage", "bytes", 1);
            default -> throw new IllegalStateException(mode);
        };
        r.put("cycle-off-ms", up);
        r.put("cycle-on-ms", down);
        return List.of(r);
    }

    /** A preset's duration parameter: at most a day. */
    private static double millis(RuleParams p, String name, double defaultValue, double min) {
        return p.number(name, defaultValue, min, 86_400_000);
    }

    private static Map<String, Object> rule(String type, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
