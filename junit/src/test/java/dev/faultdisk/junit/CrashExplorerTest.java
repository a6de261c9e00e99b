package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.StateResult;
import dev.faultdisk.testkit.Tools;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The extension's {@link CrashExplorer} on a small SQLite run (the sqlite3 CLI, one row per
 * transaction, "ack N" after each): with synchronous=OFF exploration finds acknowledged rows
 * lost, with FULL (rollback journal in TRUNCATE mode) none. Needs root, /dev/fuse, nbdfuse and
 * sqlite3 (skipped visibly without them, failed under CI).
 */
@Faultdisk(exports = "d=memory:64M")
class CrashExplorerTest {

    @Test
    void exploresASqliteRunAndReturnsTheReport(CrashExplorer explorer) throws Exception {
        Tools.requireRoot();
        Tools.requirePath("/dev/fuse");
        Tools.require("nbdfuse", "fusermount3", "losetup", "mkfs.ext4", "e2fsck", "sqlite3", "paste");

        ExploreReport off = explorer.explore(rows(explorer, "off"));
        List<StateResult> lost =
                off.violations().stream().filter(s -> s.checkExit() == 2).toList();
        assertFalse(lost.isEmpty(), "synchronous=OFF: no state lost an acknowledged row: " + off.results());
        assertTrue(lost.getFirst().checkOutput().contains("acknowledged rows missing"), lost.toString());
        assertEquals(List.of("1", "2", "3", "4", "5"), off.acks());
        assertFalse(off.minimized().isEmpty(), "a failing crash point is minimized");
        assertEquals(
                Path.of("target", "faultdisk-explore").toAbsolutePath(),
                off.runDir().getParent());
        assertTrue(
                off.runDir()
                        .getFileName()
                        .toString()
                        .startsWith("CrashExplorerTest.exploresASqliteRunAndReturnsTheReport-"),
                off.runDir().toString());
        assertTrue(Files.readString(off.json()).contains("\"verdict\": \"check-failed\""));

        ExploreReport full = explorer.explore(rows(explorer, "full").maxStates(12));
        assertEquals(List.of(), full.violations(), "synchronous=FULL: no false alarm");
        assertTrue(
                full.results().size() >= 10, "states checked: " + full.results().size());
        assertNotEquals(off.runDir(), full.runDir(), "each exploration has its own run directory");
        assertTrue(Files.exists(full.html()));
    }

    private static ExploreOptions.Builder rows(CrashExplorer explorer, String sync) throws URISyntaxException {
        String env = "SYNC=" + sync + " ROWS=5 ";
        return explorer.options(
                        "d",
                        env + "sh " + script("rows-workload.sh") + " \"$1\"",
                        "sh " + script("rows-check.sh") + " \"$1\" \"$2\"")
                .setup("sqlite3 \"$1/rows.db\" 'CREATE TABLE t(v INTEGER PRIMARY KEY)'")
                .maxStates(10)
                .minimize(1);
    }

    private static String script(String name) throws URISyntaxException {
        return Path.of(CrashExplorerTest.class.getResource("/explore/" + name).toURI())
                .toString();
    }
}
