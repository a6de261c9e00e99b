package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.Json;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A record's journal form and its event data tell the same facts, the event's without the time. */
class FaultRecordTest {

    @Test
    void theEventDataIsTheJournalMapWithoutItsTime() {
        for (FaultRecord record :
                List.of(record("", -1, List.of()), record("slow", 3, List.of(Map.of("path", "/a"))))) {
            Map<String, Object> journal = record.toMap();
            assertEquals("time", journal.keySet().iterator().next(), "the journal's time comes first");
            assertEquals("2026-12-01T08:00:00.000001Z", journal.get("time"));
            Map<String, Object> withoutTime = new LinkedHashMap<>(journal);
            withoutTime.remove("time");
            assertEquals(Json.write(withoutTime), Json.write(record.eventData()));
        }
        assertEquals(
                "{\"device\": \"d0\", \"rule\": 7, \"type\": \"delay\", \"label\": \"slow\", \"operation\": \"read\", "
                        + "\"offset\": 4096, \"length\": 512, \"connection\": 3, \"action\": \"delayed 1.000 ms\", "
                        + "\"details\": {\"delay-ms\": 1.0}, \"seed\": -5, \"match\": 2, \"files\": [{\"path\": \"/a\"}]}",
                Json.write(record("slow", 3, List.of(Map.of("path", "/a"))).eventData()));
    }

    private static FaultRecord record(String label, long connection, List<Map<String, Object>> files) {
        return new FaultRecord(
                Instant.parse("2026-12-01T08:00:00.000001Z"),
                "d0",
                7,
                "delay",
                label,
                BlockOp.READ,
                4096,
                512,
                connection,
                "delayed 1.000 ms",
                Map.of("delay-ms", 1.0),
                -5,
                2,
                true,
                files);
    }
}
