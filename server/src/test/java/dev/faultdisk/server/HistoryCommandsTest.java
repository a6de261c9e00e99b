package dev.faultdisk.server;

import static dev.faultdisk.server.RunningServer.filled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.HistoryInfo;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** history-start, -mark, -stop, query-history, history-materialize and -release over QMP. */
class HistoryCommandsTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M"));

    @Test
    void recordsARunAndServesItsCrashStates(@TempDir Path dir) throws IOException {
        FaultdiskClient c = fd.client();
        String path = dir.resolve("run.history").toString();
        HistoryInfo started = c.historyStart("d0", path, null);
        assertTrue(started.recording());
        assertEquals("history-base", started.base());
        fd.write("d0", 0, filled(512, 1));
        assertEquals(1, c.historyMark("d0", "ack a"));
        fd.write("d0", 512, filled(512, 2));
        assertEquals(3, c.queryHistory("d0").entries());
        HistoryInfo stopped = c.historyStop("d0");
        assertFalse(stopped.recording());
        assertNull(stopped.failure());
        try (HistoryReader r = HistoryReader.open(Path.of(path))) {
            assertEquals(
                    List.of(
                            HistoryEntry.Kind.WRITE,
                            HistoryEntry.Kind.MARK,
                            HistoryEntry.Kind.WRITE,
                            HistoryEntry.Kind.END),
                    r.entries().stream().map(HistoryEntry::kind).toList());
        }

        assertEquals(512, c.historyMaterialize("d0", path, 0, List.of(2L), Map.of()));
        assertArrayEquals(filled(512, 0), fd.read("d0", 0, 512), "the first write dropped");
        assertArrayEquals(filled(512, 2), fd.read("d0", 512, 512), "the second kept");
        c.historyMaterialize("d0", path, 1, List.of(), Map.of());
        assertArrayEquals(filled(512, 1), fd.read("d0", 0, 512));
        assertArrayEquals(filled(512, 0), fd.read("d0", 512, 512));
        c.historyRelease("d0");
        assertEquals(1, c.querySnapshots("d0").size(), "only the base is left");
    }

    /**
     * With reads, every completed read is logged in order with its place (no data), on disk: more
     * reads than the fault journal keeps (10,000), and the first is still there. Without, none.
     */
    @Test
    void logsReadsWhenAskedAndKeepsAllOfThem(@TempDir Path dir) throws IOException {
        FaultdiskClient c = fd.client();
        String plain = dir.resolve("plain.history").toString();
        c.historyStart("d0", plain, null);
        fd.read("d0", 0, 512);
        c.historyStop("d0");
        c.historyRelease("d0");
        try (HistoryReader r = HistoryReader.open(Path.of(plain))) {
            assertTrue(r.entries().stream().noneMatch(e -> e.kind() == HistoryEntry.Kind.READ), "no reads unasked");
        }
        String path = dir.resolve("reads.history").toString();
        c.historyStart("d0", path, "with-reads", true);
        int reads = 12_000;
        for (int i = 0; i < reads; i++) {
            fd.read("d0", (i % 2048) * 512L, 512);
        }
        fd.write("d0", 4096, filled(512, 3));
        c.historyStop("d0");
        try (HistoryReader r = HistoryReader.open(Path.of(path))) {
            List<HistoryEntry> read = r.entries().stream()
                    .filter(e -> e.kind() == HistoryEntry.Kind.READ)
                    .toList();
            assertEquals(reads, read.size());
            for (int i = 0; i < reads; i++) {
                assertEquals((i % 2048) * 512L, read.get(i).offset(), "read " + i);
                assertEquals(512, read.get(i).length());
                assertEquals(-1, read.get(i).dataPosition(), "a read's data is not logged");
            }
            assertEquals(1, r.entries().stream().filter(HistoryEntry::isChange).count(), "the write, once");
        }
    }

    @Test
    void badInputIsRefusedClearly(@TempDir Path dir) {
        FaultdiskClient c = fd.client();
        QmpException noRun = assertThrows(QmpException.class, () -> c.historyMark("d0", "x"));
        assertTrue(noRun.getMessage().contains("not recording"), noRun.getMessage());
        String path = dir.resolve("h").toString();
        c.historyStart("d0", path, "b");
        QmpException twice = assertThrows(QmpException.class, () -> c.historyStart("d0", path + "2", "b2"));
        assertTrue(twice.getMessage().contains("already"), twice.getMessage());
        QmpException recording =
                assertThrows(QmpException.class, () -> c.historyMaterialize("d0", path, 0, List.of(), Map.of()));
        assertTrue(recording.getMessage().contains("stop it first"), recording.getMessage());
        c.historyStop("d0");
        QmpException past =
                assertThrows(QmpException.class, () -> c.historyMaterialize("d0", path, 99, List.of(), Map.of()));
        assertTrue(past.getMessage().contains("past the history's end"), past.getMessage());
    }
}
