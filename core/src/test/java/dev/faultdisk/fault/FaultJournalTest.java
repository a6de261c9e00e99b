package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.faultdisk.wire.BlockOp;
import java.lang.ref.WeakReference;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The journal's window of recent entries: the last {@code capacity} in order with their sequence
 * numbers, each fault exactly as its record says, filtered by export and position; sinks see
 * every entry; and the window keeps the facts, not the records (which die young).
 */
class FaultJournalTest {
    private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2030-01-01T00:00:00Z"));
    private static final Map<String, Object> DELAYED = Map.of("delay-ms", 1.0);

    private static FaultRecord record(String export, long offset) {
        return new FaultRecord(
                Instant.parse("2030-01-01T00:00:01.000000123Z").plusMillis(offset),
                export,
                7,
                "delay",
                "slow",
                BlockOp.READ,
                offset,
                4096,
                3,
                "delayed 1.000 ms",
                DELAYED,
                42,
                offset + 1,
                offset % 2 == 0,
                List.of(Map.of("path", "/a", "offset", offset)));
    }

    private static Map<String, Object> expected(long seq, FaultRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", seq);
        m.put("event", "fault");
        m.putAll(r.toMap());
        return m;
    }

    @Test
    void keepsTheLastEntriesInOrderEachAsItsRecordSays() {
        FaultJournal journal = new FaultJournal(CLOCK, 3);
        List<FaultRecord> records = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            FaultRecord r = record(i % 2 == 0 ? "d0" : "d1", i);
            records.add(r);
            journal.injected(r);
        }
        journal.note(Map.of("event", "trigger-fired", "time", "t", "device", "d1"));
        assertEquals(6, journal.lastSeq());
        // capacity 3: entries 4, 5 (faults of records 3, 4) and 6 (the note), oldest first
        assertEquals(
                List.of(
                        expected(4, records.get(3)),
                        expected(5, records.get(4)),
                        Map.of("seq", 6L, "event", "trigger-fired", "time", "t", "device", "d1")),
                journal.entries(0, 100, null));
        assertEquals(List.of(expected(5, records.get(4))), journal.entries(0, 100, "d0"));
        assertEquals(List.of(expected(4, records.get(3))), journal.entries(0, 1, "d1"), "at most the limit");
        assertEquals(6L, journal.entries(4, 100, "d1").getFirst().get("seq"), "only after the given number");
    }

    @Test
    void sinksSeeEveryEntryInOrder() {
        FaultJournal journal = new FaultJournal(CLOCK, 1);
        List<Map<String, Object>> seen = new ArrayList<>();
        journal.addSink(e -> seen.add(e.toMap()));
        FaultRecord a = record("d0", 0);
        FaultRecord b = record("d0", 1);
        journal.injected(a);
        journal.injected(b);
        assertEquals(List.of(expected(1, a), expected(2, b)), seen);
        assertEquals(List.of(expected(2, b)), journal.entries(0, 10, null), "the window holds one");
    }

    @Test
    void theWindowKeepsTheFactsNotTheRecords() {
        FaultJournal journal = new FaultJournal(CLOCK, 10);
        FaultRecord r = record("d0", 5);
        Map<String, Object> facts = expected(1, r);
        WeakReference<FaultRecord> held = new WeakReference<>(r);
        WeakReference<Instant> time = new WeakReference<>(r.time());
        journal.injected(r);
        r = null;
        for (int i = 0; i < 20 && (held.get() != null || time.get() != null); i++) {
            System.gc();
        }
        assertNull(held.get(), "the journal let the record go");
        assertNull(time.get(), "and its time");
        assertEquals(List.of(facts), journal.entries(0, 10, null), "keeping what it said");
    }
}
