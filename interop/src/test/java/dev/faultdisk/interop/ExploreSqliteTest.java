package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.StateResult;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * faultdisk explore on SQLite (Python's sqlite3 module writes, the sqlite3 CLI checks) on ext4,
 * one row per transaction, "ack N" after each COMMIT: what each synchronous setting promises is
 * what exploration finds. Budgets are small for CI; bench/explore.sh runs the long ones.
 */
@Faultdisk(exports = "d=memory:64M")
class ExploreSqliteTest {

    @Test
    void synchronousOffLosesAcknowledgedRows(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll("python3", "sqlite3");
        ExploreReport r = ExploreRuns.explore(
                fd, ExploreRuns.sqlite(uri, dir, "delete", "off", 5).maxStates(10));
        List<StateResult> lost =
                r.results().stream().filter(s -> s.checkExit() == 2).toList();
        assertFalse(lost.isEmpty(), "no state lost an acknowledged row: " + r.results());
        assertTrue(
                lost.getFirst().checkOutput().contains("acknowledged rows missing"),
                lost.getFirst().checkOutput());
        assertTrue(
                r.firstViolationSeconds() >= 0 && r.firstViolationSeconds() < 60,
                "found in " + r.firstViolationSeconds());
        assertEquals(5, r.acks().size());
        assertFalse(r.minimized().isEmpty(), "the first failing crash point is minimized");
        String html = Files.readString(r.html());
        assertTrue(html.contains("Minimal reproducers") && html.contains("<svg"), "the page has its sections");
        assertTrue(Files.readString(r.json()).contains("\"verdict\": \"check-failed\""));
        ExploreRuns.assertNothingLeft(r.runDir());
    }

    @ParameterizedTest(name = "journal_mode={0}")
    @ValueSource(strings = {"truncate", "wal"})
    void synchronousFullKeepsEveryAcknowledgedRow(
            String journal, FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        ExploreRuns.requireAll("python3", "sqlite3");
        ExploreReport r = ExploreRuns.explore(
                fd, ExploreRuns.sqlite(uri, dir, journal, "full", 5).maxStates(25));
        assertEquals(List.of(), r.violations(), "no false alarm");
        assertTrue(r.results().size() >= 20, "states checked: " + r.results().size());
        assertTrue(
                r.points().size() >= 5,
                "a crash point per fsync at least: " + r.points().size());
    }

    @Test
    void walWithSynchronousNormalLosesAcknowledgementsButStaysConsistent(
            FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        ExploreRuns.requireAll("python3", "sqlite3");
        ExploreReport r = ExploreRuns.explore(
                fd, ExploreRuns.sqlite(uri, dir, "wal", "normal", 6).maxStates(25));
        assertFalse(r.violations().isEmpty(), "a committed transaction rolled back in some state");
        for (StateResult s : r.violations()) {
            assertEquals(2, s.checkExit(), "only lost acknowledgements, never corruption: " + s);
            assertTrue(s.fsckClean(), "fsck clean: " + s);
        }
    }

    @Test
    @Faultdisk(exports = "d=memory:320M") // mkfs.xfs wants 300 MB
    void onXfsTooNoFalseAlarmAndLossesAreFound(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll("python3", "sqlite3", "mkfs.xfs", "xfs_repair");
        ExploreReport full = onXfs(fd, uri, dir.resolve("full"), "wal", "full", 15);
        assertEquals(List.of(), full.violations(), "no false alarm on xfs");
        assertTrue(
                full.results().size() >= 10, "states checked: " + full.results().size());
        ExploreRuns.forgetRuns(fd);
        ExploreReport off = onXfs(fd, uri, dir.resolve("off"), "delete", "off", 6);
        assertTrue(off.results().stream().anyMatch(s -> s.checkExit() == 2), "lost rows on xfs: " + off.results());
    }

    private static ExploreReport onXfs(
            FaultdiskClient fd, String uri, Path dir, String journal, String sync, int states) throws Exception {
        return ExploreRuns.explore(
                fd, ExploreRuns.sqlite(uri, dir, journal, sync, 4).fs("xfs").maxStates(states));
    }
}
