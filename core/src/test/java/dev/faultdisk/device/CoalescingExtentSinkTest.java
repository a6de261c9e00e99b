package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CoalescingExtentSinkTest {
    @Test
    void neighboursOfTheSameFlagsLeaveAsOneAndAStopIsKept() {
        List<String> got = new ArrayList<>();
        CoalescingExtentSink joined = new CoalescingExtentSink((length, flags) -> {
            got.add(length + ":" + flags);
            return got.size() < 2;
        });
        assertTrue(joined.accept(4096, 0));
        assertTrue(joined.accept(4096, 0));
        assertTrue(joined.accept(512, ExtentSink.ZERO));
        assertTrue(joined.accept(100, ExtentSink.ZERO));
        assertFalse(joined.accept(7, ExtentSink.HOLE | ExtentSink.ZERO), "the downstream sink had enough");
        assertFalse(joined.accept(7, 0));
        joined.finish();
        assertEquals(List.of("8192:0", "612:2"), got);
        CoalescingExtentSink all = new CoalescingExtentSink((length, flags) -> got.add(length + ":" + flags));
        all.accept(1, 3);
        all.accept(2, 3);
        all.finish();
        assertEquals("3:3", got.getLast(), "finish hands on the last one");
    }
}
