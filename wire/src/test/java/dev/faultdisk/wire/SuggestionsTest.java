package dev.faultdisk.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SuggestionsTest {

    @Test
    void typosSwapsAndCaseFindTheNameMeantAndFarNamesFindNothing() {
        List<String> known = List.of("memory", "blkdebug");
        assertEquals(Optional.of("memory"), Suggestions.closest("memroy", known));
        assertEquals(Optional.of("memory"), Suggestions.closest("memry", known));
        assertEquals(Optional.of("blkdebug"), Suggestions.closest("BLKDEBUG", known));
        assertEquals(Optional.empty(), Suggestions.closest("nbd", known));
        assertEquals(Optional.empty(), Suggestions.closest("x", List.of()));
        assertEquals(
                Optional.of("FAULT_INJECTED"),
                Suggestions.closest("FAULT_INJECTD", List.of("FAULT_RELEASED", "FAULT_INJECTED", "POWER_FAIL")));
        assertEquals("did you mean flaky-disk?", Suggestions.didYouMean("flaky", List.of("flaky-disk", "dying-disk")));
        assertEquals("", Suggestions.didYouMean("zzz", List.of("flaky-disk")));
    }
}
