package dev.faultdisk.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryEntry.Kind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crash points, the state plan, tear units, minimization and the checks before anything is attached. */
class ExplorerPlanTest {
    private final List<HistoryEntry> log = new ArrayList<>();

    private long add(Kind kind, long offset, long length, boolean fua, long ref, String label) {
        long i = log.size();
        log.add(new HistoryEntry(i, kind, offset, length, fua, 1, i, i, ref, label, kind == Kind.WRITE ? 0 : -1));
        return i;
    }

    private long write(long offset, long length) {
        return add(Kind.WRITE, offset, length, false, -1, "");
    }

    private void flush() {
        long begin = add(Kind.FLUSH_BEGIN, 0, 0, false, -1, "");
        add(Kind.FLUSH_END, 0, 0, false, begin, "");
    }

    private Map<Long, List<List<Integer>>> units(int size) {
        Map<Long, List<List<Integer>>> m = new HashMap<>();
        for (HistoryEntry e : log) {
            if (e.isChange()) {
                m.put(e.index(), TearUnits.of(e.offset(), e.length(), size));
            }
        }
        return m;
    }

    @Test
    void aFlushMakesDurableWhatCompletedBeforeItBeganAndAcksCountFromTheirMark() {
        write(0, 4096); // 0
        long begin = add(Kind.FLUSH_BEGIN, 0, 0, false, -1, ""); // 1
        write(4096, 4096); // 2: completed while the flush ran, not covered by it
        add(Kind.FLUSH_END, 0, 0, false, begin, ""); // 3
        add(Kind.MARK, 0, 0, false, -1, "ack k1"); // 4
        add(Kind.WRITE, 8192, 512, true, -1, ""); // 5: FUA
        write(12288, 4096); // 6
        flush(); // 7, 8
        add(Kind.END, 0, 0, false, -1, "stopped"); // 9
        List<CrashPoint> points = CrashPoint.of(log);
        assertEquals(3, points.size());
        assertEquals(new CrashPoint(0, 3, 0, List.of(), List.of(0L, 2L), List.of()), points.get(0));
        assertEquals(new CrashPoint(1, 8, 1, List.of(5L), List.of(2L, 6L), List.of("k1")), points.get(1));
        assertEquals(new CrashPoint(2, 9, 7, List.of(), List.of(), List.of("k1")), points.get(2));
    }

    @Test
    void thePlanStaysInItsBudgetSpansThePointsAndRepeatsNothing() {
        for (int epoch = 0; epoch < 10; epoch++) {
            for (int w = 0; w < 6; w++) {
                write((epoch * 6L + w) * 8192, 8192);
            }
            flush();
        }
        add(Kind.END, 0, 0, false, -1, "stopped");
        List<CrashPoint> points = CrashPoint.of(log);
        List<PlannedState> plan = StatePlanner.plan(points, units(4096), 35, 7);
        assertEquals(35, plan.size());
        Set<String> keys = new HashSet<>();
        Set<Integer> pointsCovered = new HashSet<>();
        for (PlannedState s : plan) {
            assertTrue(keys.add(s.key()), "repeated: " + s);
            pointsCovered.add(s.point());
            CrashPoint p = points.get(s.point());
            assertTrue(p.pending().containsAll(s.applied()), "only pending writes are chosen: " + s);
        }
        assertEquals(points.size(), pointsCovered.size(), "every crash point gets states");
        assertEquals(plan, StatePlanner.plan(points, units(4096), 35, 7), "the same seed, the same plan");
        for (int i = 1; i < plan.size(); i++) {
            assertTrue(plan.get(i - 1).prefix() <= plan.get(i).prefix(), "run in log order");
        }
        assertTrue(plan.stream().anyMatch(s -> !s.torn().isEmpty()), "torn writes are among them");
    }

    @Test
    void tearUnitsFollowTheDeviceAlignment() {
        assertEquals(List.of(List.of(0, 1, 2, 3, 4, 5), List.of(6, 7)), TearUnits.of(1024, 4096, 4096));
        assertEquals(List.of(List.of(0, 1)), TearUnits.of(1024, 1024, 4096), "a superblock write stays whole");
        assertEquals(List.of(List.of(0), List.of(1)), TearUnits.of(1024, 1024, 512));
    }

    @Test
    void ddminFindsTheOneLostWriteThatMatters() throws ExploreException {
        for (int w = 0; w < 16; w++) {
            write(w * 4096L, 4096);
        }
        flush();
        List<CrashPoint> points = CrashPoint.of(log);
        CrashPoint p = points.getFirst();
        Map<Long, List<List<Integer>>> units = units(4096);
        // the "application" breaks whenever write 11 is lost while write 3 landed
        Minimizer m = new Minimizer(
                p, units, s -> !s.applied().contains(11L) && s.applied().contains(3L), 100);
        PlannedState failing = new PlannedState(0, 0, "none", 0, new java.util.TreeSet<>(List.of(3L)), Map.of());
        List<Minimizer.Loss> minimal = m.minimize(Minimizer.losses(p, failing, units));
        assertEquals(List.of(new Minimizer.Loss(11, -1)), minimal);
        assertTrue(m.tests() < 30, "about log2 tests: " + m.tests());
    }

    @Test
    void rangesRoundTrip() {
        assertEquals("1-3,7,9-10", Ranges.format(List.of(1L, 2L, 3L, 7L, 9L, 10L)));
        assertEquals(new java.util.TreeSet<>(List.of(1L, 2L, 3L, 7L, 9L, 10L)), Ranges.parse("1-3,7,9-10"));
        assertThrows(IllegalArgumentException.class, () -> Ranges.parse("5-2"));
    }

    @Test
    void noRootOrNoFuseIsToldClearly(@TempDir Path dir) {
        ExploreException root = assertThrows(ExploreException.class, () -> Explorer.preflight("ext4", 1000, dir));
        assertTrue(root.getMessage().contains("needs root"), root.getMessage());
        ExploreException fuse =
                assertThrows(ExploreException.class, () -> Explorer.preflight("ext4", 0, dir.resolve("fuse")));
        assertTrue(
                fuse.getMessage().contains("does not exist")
                        && fuse.getMessage().contains("modprobe fuse"),
                fuse.getMessage());
    }

    @Test
    void aLostWriteIsNamedByTheCrashStateFirstThenByTheFinalState() {
        WriteNamer inState = (offset, length) -> offset == 0
                ? List.of("file /config @0")
                : List.of(WriteNamer.range(offset, length) + WriteNamer.UNKNOWN);
        WriteNamer afterRun = (offset, length) -> offset == 4096
                ? List.of("file /other @0")
                : List.of(WriteNamer.range(offset, length) + WriteNamer.UNKNOWN);
        WriteNamer both = WriteNamer.either(inState, afterRun);
        assertEquals(List.of("file /config @0"), both.name(0, 4096), "its owner in the crash state");
        assertEquals(
                List.of("file /other @0 (after the run)"), both.name(4096, 4096), "else the final state's, marked");
        assertEquals(List.of("bytes 8192+4096 (no owner known)"), both.name(8192, 4096));
        assertEquals(
                List.of("file /other @0"), WriteNamer.either(null, afterRun).name(4096, 4096), "no crash-state map");
    }
}
