package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FaultSpecTest {
    @Test
    void typeThenMembersWithNumbersListsAndFlags() {
        assertEquals(
                Map.of(
                        "type",
                        "error",
                        "ops",
                        List.of("write"),
                        "offset",
                        0L,
                        "length",
                        "4K",
                        "errno",
                        "ENOSPC",
                        "times",
                        1L),
                FaultSpec.rule("error,ops=write,offset=0,length=4K,errno=ENOSPC,times=1")
                        .toJson());
        assertEquals(
                Map.of("type", "delay", "ops", List.of("read", "write"), "ms", 1.5, "probability", 0.25),
                FaultSpec.rule("delay,ops=read+write,ms=1.5,probability=0.25").toJson());
        assertEquals(
                Map.of("type", "disconnect", "mid-reply", true, "events", false),
                FaultSpec.rule("disconnect,mid-reply,events=false").toJson());
        assertEquals(
                Map.of("type", "misdirected-write", "shift", -4096L),
                FaultSpec.rule("misdirected-write,shift=-4096").toJson());
    }

    @Test
    void aRuleStartsWithItsType() {
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.rule("ops=write"));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.rule(",ops=write"));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.rule("error,=5"));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.json("{}", "--rules"));
        assertEquals(
                2,
                FaultSpec.json("[{\"type\": \"hang\"}, {\"type\": \"lost-write\", \"nth\": 3}]", "--rules")
                        .size());
    }
}
