package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonException;
import java.util.Collections;
import java.util.List;

/**
 * The fault-rule parser under arbitrary JSON: a rule set is accepted whole, every range within
 * the export, or refused with an {@link IllegalArgumentException} that says why, never with
 * another exception. Plain test runs replay the committed corpus.
 */
class FaultRuleFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void rules(FuzzedDataProvider data) {
        long size = data.consumeLong(1, 1L << 40);
        Object parsed;
        try {
            parsed = Json.parse(data.consumeRemainingAsString());
        } catch (JsonException e) {
            return;
        }
        // A lone value (JSON null included) is a rule set of one: the parser must refuse it clearly.
        List<?> rules = parsed instanceof List<?> l ? l : Collections.singletonList(parsed);
        try {
            List<FaultRule> out = FaultRuleParser.parse(rules, "rules", size, 1, 42, new FileBinding());
            assertEquals(rules.size(), out.size());
            for (FaultRule r : out) {
                Targeting t = r.targeting();
                assertTrue(t.offset() >= 0 && t.offset() <= t.end() && t.end() <= size, "range within the export");
            }
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
        }
    }
}
