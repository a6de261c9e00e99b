package dev.faultdisk.history;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryEntry.Kind;
import dev.faultdisk.wire.history.HistoryReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recorder in an export's stack: what it logs, in which order, and crash states built from the log. */
class ExportHistoryTest {
    private static final int MIB = 1 << 20;

    private static Export memory() {
        return new Export("d", new MemoryDevice(4 * MIB), false, new BlkdebugEngine(), CacheMode.WRITEBACK);
    }

    @Test
    void logsChangesFlushesAndMarksInOrderWithTheData(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("run.history");
        try (Export e = memory()) {
            Io.write(e.device(), 0, Io.filled(4096, 9), false); // before the history: in the base snapshot
            e.historyStart(log, "base", 1 << 30);
            Io.write(e.device(), 4096, Io.filled(1024, 1), false);
            e.device().flush(BlockRequest.flush());
            long mark = e.historyMark("ack one");
            Io.write(e.device(), 8192, Io.filled(512, 2), true);
            e.device().trim(BlockRequest.of(BlockOp.TRIM, 0, 4096));
            HistoryStatus stopped = e.historyStop();
            assertEquals(7, stopped.entries(), "six entries and END: " + stopped);
            assertEquals(3, mark);
            Io.write(e.device(), 12288, Io.filled(512, 3), false); // after the stop: not recorded
        }
        try (HistoryReader r = HistoryReader.open(log)) {
            List<HistoryEntry> es = r.entries();
            assertEquals(
                    List.of(Kind.WRITE, Kind.FLUSH_BEGIN, Kind.FLUSH_END, Kind.MARK, Kind.WRITE, Kind.TRIM, Kind.END),
                    es.stream().map(HistoryEntry::kind).toList());
            assertEquals("base", r.header().baseSnapshot());
            assertEquals(4 * MIB, r.header().size());
            assertArrayEquals(Io.filled(1024, 1), r.data(es.get(0)));
            assertEquals(4096, es.get(0).offset());
            assertEquals(1, es.get(2).ref(), "the flush end names its begin");
            assertEquals("ack one", es.get(3).label());
            assertTrue(es.get(4).fua());
            assertFalse(es.get(0).fua());
            assertTrue(r.complete());
            assertFalse(r.overflowed());
            assertFalse(r.tornTail());
        }
    }

    @Test
    void materializesStatesFromTheBaseWithPrefixesSubsetsAndTornWrites(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("run.history");
        try (Export e = memory()) {
            Io.write(e.device(), 0, Io.filled(2048, 7), false);
            e.historyStart(log, "base", 1 << 30);
            Io.write(e.device(), 0, Io.filled(2048, 1), false); // entry 0
            Io.write(e.device(), 4096, Io.filled(1024, 2), false); // entry 1
            Io.write(e.device(), 0, Io.filled(512, 3), false); // entry 2
            e.historyStop();
            Io.write(e.device(), 0, Io.filled(8192, 0x55), false); // noise, reverted by every state

            e.materialize(log, new CrashState(0, new TreeSet<>(), Map.of()));
            assertArrayEquals(Io.filled(2048, 7), Io.read(e.device(), 0, 2048), "none: the base");
            assertArrayEquals(Io.filled(1024, 0), Io.read(e.device(), 4096, 1024));

            e.materialize(log, new CrashState(2, new TreeSet<>(), Map.of()));
            assertArrayEquals(Io.filled(2048, 1), Io.read(e.device(), 0, 2048), "prefix of two");
            assertArrayEquals(Io.filled(1024, 2), Io.read(e.device(), 4096, 1024));

            Io.write(e.device(), 4096, Io.filled(512, 0x66), false); // what a check writes: gone at the next state
            e.materialize(log, new CrashState(2, new TreeSet<>(List.of(2L)), Map.of()));
            assertArrayEquals(Io.filled(512, 3), Io.read(e.device(), 0, 512), "prefix plus entry 2");
            assertArrayEquals(
                    Io.filled(1024, 2), Io.read(e.device(), 4096, 1024), "the checkpoint, not the check's write");

            e.materialize(log, new CrashState(0, new TreeSet<>(List.of(1L)), Map.of()));
            assertArrayEquals(Io.filled(2048, 7), Io.read(e.device(), 0, 2048), "entry 0 dropped, entry 1 kept");
            assertArrayEquals(Io.filled(1024, 2), Io.read(e.device(), 4096, 1024));

            e.materialize(log, new CrashState(0, new TreeSet<>(List.of(0L)), Map.of(0L, List.of(1, 3))));
            byte[] torn = Io.read(e.device(), 0, 2048);
            assertArrayEquals(Io.filled(512, 7), Arrays.copyOfRange(torn, 0, 512), "block 0 did not land");
            assertArrayEquals(Io.filled(512, 1), Arrays.copyOfRange(torn, 512, 1024), "block 1 did");
            assertArrayEquals(Io.filled(512, 7), Arrays.copyOfRange(torn, 1024, 1536));
            assertArrayEquals(Io.filled(512, 1), Arrays.copyOfRange(torn, 1536, 2048));

            assertThrows(
                    IllegalArgumentException.class,
                    () -> e.materialize(log, new CrashState(0, new TreeSet<>(List.of(9L)), Map.of())));
            e.historyRelease();
            assertEquals(
                    List.of("base"),
                    e.snapshots().stream().map(s -> s.name()).toList(),
                    "the checkpoint is gone, the base stays");
        }
    }

    @Test
    void refusesASecondHistoryAndMarksWithoutOne(@TempDir Path dir) throws IOException {
        try (Export e = memory()) {
            assertThrows(IllegalArgumentException.class, () -> e.historyMark("x"));
            assertThrows(IllegalArgumentException.class, e::historyStop);
            e.historyStart(dir.resolve("a"), "base", 1 << 20);
            assertThrows(IllegalArgumentException.class, () -> e.historyStart(dir.resolve("b"), "base2", 1 << 20));
            e.historyStop();
            assertThrows(
                    IllegalArgumentException.class,
                    () -> e.historyStart(dir.resolve("a"), "base2", 1 << 20),
                    "the file exists");
            assertThrows(
                    IllegalArgumentException.class,
                    () -> e.historyStart(dir.resolve("c"), "base", 1 << 20),
                    "the base snapshot exists");
        }
    }

    @Test
    void aFullHistoryStopsRecordingAndSaysSoButTheWritesGoOn(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("small");
        try (Export e = memory()) {
            e.historyStart(log, "base", 16 * 1024);
            for (int i = 0; i < 10; i++) {
                Io.write(e.device(), i * 4096L, Io.filled(4096, i + 1), false);
            }
            HistoryStatus s = e.historyStop();
            assertEquals("overflowed", s.failure());
            assertArrayEquals(
                    Io.filled(4096, 10), Io.read(e.device(), 9 * 4096L, 4096), "the client's writes all landed");
        }
        try (HistoryReader r = HistoryReader.open(log)) {
            assertTrue(r.overflowed());
            assertTrue(r.entries().size() < 10);
        }
    }
}
