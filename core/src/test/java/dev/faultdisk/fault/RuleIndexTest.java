package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The interval index finds exactly the rules whose range a request overlaps, in acting order. */
class RuleIndexTest {
    private static final long SIZE = 1L << 30;

    @Test
    void candidatesAreTheRulesThatFitInActingOrder() {
        SplittableRandom random = new SplittableRandom(0x1d3e_0001L);
        FaultEngine engine = new FaultEngine("d", SIZE, FaultTime.system(), 1);
        List<Map<String, Object>> rules = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            long offset = random.nextLong(SIZE - (1 << 20));
            long length = i % 97 == 0 ? random.nextLong(1, SIZE - offset) : random.nextLong(1, 1 << 20);
            List<String> ops = i % 13 == 0 ? List.of("write", "flush") : List.of("read", "write");
            String type = i % 3 == 0 ? "delay" : "error";
            rules.add(
                    type.equals("delay")
                            ? Map.of("type", type, "ops", ops, "offset", offset, "length", length, "ms", 1)
                            : Map.of("type", type, "ops", ops, "offset", offset, "length", length, "after", 1_000_000));
        }
        engine.add(rules, "rules");
        FaultEngine.Snapshot s = engine.snapshot();
        for (int i = 0; i < 20_000; i++) {
            BlockOp op = i % 50 == 0 ? BlockOp.FLUSH : (i % 2 == 0 ? BlockOp.READ : BlockOp.WRITE);
            long offset = op == BlockOp.FLUSH ? 0 : random.nextLong(SIZE - 65536);
            long length = op == BlockOp.FLUSH ? 0 : random.nextLong(0, 65536);
            BlockRequest r = BlockRequest.of(op, offset, length);
            List<FaultRule> expected = Arrays.stream(s.rules())
                    .filter(rule -> rule.targeting().fits(r))
                    .toList();
            List<FaultRule> found = Arrays.stream(s.index().candidates(r))
                    .filter(rule -> rule.targeting().fits(r))
                    .toList();
            assertEquals(expected, found, "request " + op + " " + offset + "+" + length);
        }
    }

    @Test
    void aRandomReadLooksAtFewOfManyRangeRules() {
        FaultEngine engine = new FaultEngine("d", SIZE, FaultTime.system(), 1);
        List<Map<String, Object>> rules = new ArrayList<>();
        for (long i = 0; i < 100_000; i++) {
            rules.add(Map.of("type", "error", "ops", List.of("read"), "offset", i * 8192, "length", 4096));
        }
        engine.add(rules, "rules");
        FaultRule[] candidates = engine.snapshot().index().candidates(BlockRequest.of(BlockOp.READ, 123 * 8192, 4096));
        assertTrue(candidates.length <= 2, candidates.length + " candidates");
    }

    @Test
    void rulesPastTheBudgetAreRefusedNamingTheLimit() {
        FaultEngine engine = new FaultEngine("d", SIZE, FaultTime.system(), 1);
        engine.limits(10, 5, 1 << 20);
        List<Map<String, Object>> rules = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            rules.add(Map.of("type", "error", "offset", i * 4096L, "length", 4096));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> engine.add(rules, "rules"));
        assertTrue(e.getMessage().contains("limit of 10"), e.getMessage());
        assertEquals(0, engine.rules().size(), "nothing added");
        engine.add(rules.subList(0, 10), "rules");
        assertEquals(10, engine.rules().size());
    }
}
