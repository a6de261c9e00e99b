package dev.faultdisk.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.wire.PowerFailMode;
import dev.faultdisk.wire.json.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reply records read by their components' names, with the server's spelling of members. */
class ReplyRecordTest {
    @Test
    void componentsReadTheirKebabCaseMembersAndAbsentOnesTakeTheirStandIns() {
        BlockInfo b = BlockInfo.from(
                Json.parse("{\"device\": \"disk0\", \"size\": 4096, \"read-only\": true, \"extra\": [1]}"));
        assertEquals("disk0", b.device());
        assertEquals(4096, b.size());
        assertEquals(true, b.readOnly());
        assertEquals("", b.backing());
        assertEquals(0, b.connections());
        assertEquals(List.of(1L), b.raw().get("extra"), "raw keeps members no component names");
        HistoryInfo h = HistoryInfo.from(Json.parse("{\"recording\": false}"));
        assertNull(h.failure());
        assertEquals(0, h.entries());
        assertEquals(
                -1,
                FileOwner.from(Json.parse(
                                "{\"kind\": \"metadata\", \"name\": \"ext4 journal\", \"offset\": 8, \"length\": 2}"))
                        .fileOffset());
    }

    @Test
    void nestedRecordsListsAndWireEnumsAreRead() {
        PowerFailReport p = PowerFailReport.from(Json.parse("""
                {"mode": "torn-writes", "seed": 3, "dirty-writes": 2, "dirty-bytes": 8192, "writes-kept": 0,
                 "writes-torn": 1, "writes-lost": 1, "bytes-kept": 512, "bytes-lost": 7680,
                 "lost-ranges": [{"offset": 0, "length": 4096}, {"offset": 8192, "length": 3584}]}
                """));
        assertEquals(PowerFailMode.TORN_WRITES, p.mode());
        assertEquals(
                List.of(new PowerFailReport.Range(0, 4096), new PowerFailReport.Range(8192, 3584)), p.lostRanges());
        ResetReport r = ResetReport.from(Json.parse("""
                {"triggers": 1, "exports": [
                  {"device": "a", "fault-rules": 2, "held-failed": 0, "held-released": 0, "blkdebug-rules": 0,
                   "breakpoints": 0, "suspended-resumed": 0, "flush-error-disarmed": false,
                   "reverted": {"name": "s", "bytes-reverted": 5, "cache-bytes-dropped": 0, "cache-ranges-dropped": 0}},
                  {"device": "b", "fault-rules": 0, "held-failed": 1, "held-released": 0, "blkdebug-rules": 0,
                   "breakpoints": 0, "suspended-resumed": 0, "flush-error-disarmed": true}]}
                """));
        assertEquals(5, r.exports().getFirst().reverted().bytesReverted());
        assertNull(r.exports().get(1).reverted());
        assertEquals(true, r.exports().get(1).flushErrorDisarmed());
    }

    @Test
    void aReplyOfTheWrongShapeNamesTheMember() {
        IllegalStateException missing =
                assertThrows(IllegalStateException.class, () -> FileMapInfo.from(Json.parse("{\"mount\": \"/m\"}")));
        assertEquals("unexpected reply: 'source' is missing", missing.getMessage());
        IllegalStateException wrong = assertThrows(
                IllegalStateException.class,
                () -> TriggerInfo.from(Json.parse(
                        "{\"id\": 1, \"name\": \"t\", \"fired\": \"no\", \"fire-times\": [], \"waiting\": []}")));
        assertEquals("unexpected reply: 'fired' should be an integer, got a string \"no\"", wrong.getMessage());
        IllegalStateException mode = assertThrows(
                IllegalStateException.class,
                () -> PowerFailReport.from(Json.parse("{\"mode\": \"gentle\", \"seed\": 1}")));
        assertEquals(true, mode.getMessage().startsWith("unexpected reply: 'mode': "), mode.getMessage());
        assertThrows(IllegalStateException.class, () -> ExportRemoved.from(List.of()));
        IllegalStateException nested = assertThrows(
                IllegalStateException.class,
                () -> ResetReport.from(Json.parse("{\"triggers\": 0, \"exports\": [{\"device\": 1}]}")));
        assertEquals("unexpected reply: 'exports[0].device' should be a string, got an integer 1", nested.getMessage());
    }

    @Test
    void memberNamesAreTheComponentsInKebabCase() {
        assertEquals("cache-ranges-dropped", ReplyRecord.memberName("cacheRangesDropped"));
        assertEquals("device", ReplyRecord.memberName("device"));
    }
}
