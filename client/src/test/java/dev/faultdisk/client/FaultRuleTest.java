package dev.faultdisk.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The builder writes the members docs/faults/ names. */
class FaultRuleTest {
    @Test
    void buildsTheDocumentedJson() {
        assertEquals(
                "{\"type\":\"error\",\"errno\":5,\"ops\":[\"write\"],\"offset\":0,\"length\":4096,\"times\":1}",
                Json.write(FaultRule.error(5).ops("write").range(0, 4096).times(1))
                        .replace(" ", ""));
        Map<String, Object> delay = FaultRule.delay()
                .ops("read")
                .lognormalMs(20, 200)
                .probability(0.5)
                .seed(7)
                .toJson();
        assertEquals("lognormal", delay.get("distribution"));
        assertEquals(200.0, delay.get("p99-ms"));
        assertEquals(7L, delay.get("seed"));
        assertEquals(List.of("read"), delay.get("ops"));
        Map<String, Object> hang =
                FaultRule.hang().timeoutMs(50).window(10, 1000).connection(3).toJson();
        assertEquals(
                Map.of("type", "hang", "timeout-ms", 50.0, "start-ms", 10.0, "duration-ms", 1000.0, "connection", 3L),
                hang);
        assertEquals(28, FaultRule.error("ENOSPC").toJson().get("errno"));
        assertEquals(
                List.of("write", "write-zeroes"),
                FaultRule.error(5)
                        .ops(BlockOp.WRITE, BlockOp.WRITE_ZEROES)
                        .toJson()
                        .get("ops"));
    }

    @Test
    void isImmutableAndRoundTrips() {
        FaultRule base = FaultRule.lostWrite();
        FaultRule limited = base.nth(3);
        assertEquals(Map.of("type", "lost-write"), base.toJson());
        assertEquals(limited, FaultRule.fromJson(limited.toJson()));
        assertThrows(IllegalArgumentException.class, () -> FaultRule.fromJson(Map.of("ops", "read")));
    }
}
