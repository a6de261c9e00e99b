package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rules as data: clear errors naming the member, nothing applied on any error, definitions that round-trip. */
class RuleParsingTest {

    @Test
    void badRulesAreRefusedWithTheMemberNamedAndNothingApplied() throws Exception {
        Object[][] cases = {
            {rule("type", "explode"), "rules[1].type names an unknown fault type 'explode' (known: error, delay,"},
            {rule("errno", "EIO"), "rules[1].type is missing"},
            {rule("type", "error", "probability", 1.5), "rules[1].probability must be between 0 and 1, got 1.5"},
            {rule("type", "error", "probability", -0.1), "rules[1].probability must be between 0 and 1, got -0.1"},
            {rule("type", "error", "offset", -512L), "rules[1].offset must not be negative, got -512"},
            {rule("type", "error", "length", -1L), "rules[1].length must be between 1 and"},
            {
                rule("type", "error", "offset", 1L << 20),
                "rules[1].offset 1048576 is past the end of the export (1048576 bytes, 1 MiB)"
            },
            {
                rule("type", "error", "offset", 4096L, "length", "1M"),
                "rules[1].length reaches past the end of the export: offset 4096 + length 1048576 > 1048576 bytes"
            },
            {
                rule("type", "error", "ops", List.of("read", "sideways")),
                "rules[1].ops names an unknown operation 'sideways'"
            },
            {
                rule("type", "corrupt", "ops", List.of("flush")),
                "rules[1].ops names 'flush', but corrupt applies only to read, write"
            },
            {
                rule("type", "lost-write", "ops", "read"),
                "rules[1].ops names 'read', but lost-write applies only to write, trim, write-zeroes"
            },
            {rule("type", "error", "errno", "EWHAT"), "rules[1].errno is not a known errno name: 'EWHAT'"},
            {rule("type", "error", "colour", "red"), "rules[1].colour is not a parameter of type error"},
            {rule("type", "delay"), "rules[1].ms is missing"},
            {rule("type", "delay", "ms", -3), "rules[1].ms must be between 0 and 86400000, got -3"},
            {
                rule("type", "delay", "distribution", "lognormal", "median-ms", 10, "p99-ms", 5),
                "rules[1].p99-ms must be greater than median-ms"
            },
            {
                rule("type", "delay", "distribution", "gaussian"),
                "rules[1].distribution must be one of fixed, uniform, lognormal, pareto, ramp, stall"
            },
            {rule("type", "delay", "ms", 1, "p99-ms", 5), "rules[1].p99-ms is not a parameter of type delay"},
            {rule("type", "throttle"), "rules[1] needs bytes-per-second or ops-per-second"},
            {rule("type", "throttle", "bytes-per-second", -5), "rules[1].bytes-per-second must be between 1 and"},
            {rule("type", "corrupt", "mode", "zero", "bytes", 0), "rules[1].bytes must be between 1 and"},
            {
                rule("type", "bad-sector", "sectors", List.of(1L, 4096L)),
                "rules[1].sectors[1] is past the end of the export: sector 4096"
            },
            {rule("type", "bad-sector"), "rules[1] needs sectors, count or grow-probability"},
            {
                rule("type", "misdirected-write", "target", 2L << 20),
                "rules[1].target 2097152 is past the end of the export"
            },
            {rule("type", "torn-write", "keep-sectors", -2), "rules[1].keep-sectors must not be negative, got -2"},
            {rule("type", "hang", "on-timeout", "continue"), "rules[1].on-timeout needs timeout-ms"},
            {rule("type", "error", "nth", 0), "rules[1].nth must be between 1 and"},
            {rule("type", "error", "seed", "abc"), "rules[1].seed must be an integer"},
        };
        try (Disk disk = Disk.auto(1 << 20)) {
            for (Object[] c : cases) {
                @SuppressWarnings("unchecked")
                Map<String, Object> bad = (Map<String, Object>) c[0];
                FaultRuleException e = assertThrows(
                        FaultRuleException.class, () -> disk.add(rule("type", "delay", "ms", 5), bad), bad.toString());
                assertTrue(e.getMessage().startsWith((String) c[1]), bad + " -> " + e.getMessage());
                assertEquals(List.of(), disk.faults().rules(), "nothing applied after " + bad);
                assertTrue(!disk.faults().mayBlock(), "the valid delay before it was not applied either");
            }
            // Failed calls consumed no ids: the next rule is rule 1.
            assertEquals(List.of(1L), disk.add(rule("type", "error")));
        }
    }

    @Test
    void everyTypeRoundTripsThroughItsDefinition() throws Exception {
        List<Map<String, Object>> rules = List.of(
                rule("type", "error", "errno", "ENOSPC", "ops", List.of("flush"), "probability", 0.25, "seed", 7),
                rule("type", "delay", "distribution", "lognormal", "median-ms", 20, "p99-ms", 200, "label", "slow"),
                rule("type", "delay", "ms", 10, "jitter-ms", 2, "ops", "write", "times", 3, "after", 2),
                rule("type", "throttle", "bytes-per-second", "10M", "ops-per-second", 100),
                rule("type", "hang", "offset", 4096, "length", 4096, "timeout-ms", 500, "on-timeout", "continue"),
                rule("type", "corrupt", "mode", "garbage", "bytes", 16, "ops", List.of("read", "write")),
                rule("type", "bad-sector", "sectors", List.of(3L, 9L), "grow-probability", 0.5),
                rule("type", "torn-write", "keep-sectors", 2, "result", "success"),
                rule("type", "lost-write", "nth", 4),
                rule("type", "misdirected-write", "shift", 8192),
                rule("type", "disconnect", "mid-reply", true, "connection", 3, "start-ms", 100, "duration-ms", 900),
                rule("type", "error", "cycle-off-ms", 1000, "cycle-on-ms", 250, "events", false));
        try (Disk a = Disk.auto(1 << 20);
                Disk b = Disk.auto(1 << 20)) {
            a.faults().add(rules, "rules");
            List<Map<String, Object>> definitions =
                    a.faults().rules().stream().map(FaultRule::definition).toList();
            b.faults().add(definitions, "rules");
            assertEquals(
                    definitions,
                    b.faults().rules().stream().map(FaultRule::definition).toList());
            assertEquals(7L, definitions.getFirst().get("seed"));
        }
    }

    @Test
    void defaultSeedsFollowFromTheEngineSeedAndTheRuleId() throws Exception {
        try (Disk a = Disk.auto(1 << 20, 5);
                Disk b = Disk.auto(1 << 20, 5);
                Disk c = Disk.auto(1 << 20, 6)) {
            for (Disk d : List.of(a, b, c)) {
                d.add(rule("type", "error"), rule("type", "delay", "ms", 1));
            }
            assertEquals(seeds(a), seeds(b));
            assertTrue(!seeds(a).equals(seeds(c)));
            assertTrue(seeds(a).get(0).longValue() != seeds(a).get(1).longValue());
        }
    }

    private static List<Long> seeds(Disk d) {
        return d.faults().rules().stream().map(FaultRule::seed).toList();
    }
}
