package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.faultdisk.fault.blkdebug.BlkdebugConfig;
import dev.faultdisk.fault.blkdebug.Rule;
import java.util.List;

/**
 * The blkdebug config parser under arbitrary text: refused with a message, or accepted, and then
 * what it formats parses back to the same rules. Plain test runs replay the committed corpus.
 */
class BlkdebugConfigFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void parse(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        List<Rule> rules;
        try {
            rules = BlkdebugConfig.parse(text, "fuzz.conf");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
            return;
        }
        String formatted = BlkdebugConfig.format(rules);
        assertEquals(formatted, BlkdebugConfig.format(BlkdebugConfig.parse(formatted, "formatted")));
    }
}
