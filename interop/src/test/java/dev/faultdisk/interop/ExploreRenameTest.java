package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application that replaces a file by writing a temporary file and renaming it over, on ext4.
 * With an fsync of the temporary file first, every crash state holds a whole version (data=ordered).
 * Without it, the rename can reach the disk before the data: crash states hold an empty or
 * zero-filled config. How often, per data mode, is in docs/EXPLORE.md (bench/explore.sh).
 */
@Faultdisk(exports = "d=memory:64M")
class ExploreRenameTest {
    private static ExploreOptions.Builder options(String uri, Path dir, String mode, boolean fsync) {
        String env = "LINES=50000 VERSIONS=6 FSYNC=" + (fsync ? 1 : 0) + " ";
        return ExploreRuns.options(
                        uri,
                        dir,
                        env + "sh " + ExploreRuns.script("rename-workload.sh") + " \"$1\"",
                        env + "sh " + ExploreRuns.script("rename-check.sh") + " \"$1\"")
                .setup(env + "sh " + ExploreRuns.script("rename-setup.sh") + " \"$1\"")
                .mountOptions(mode)
                .maxStates(25);
    }

    @Test
    void anFsyncBeforeTheRenameKeepsAWholeVersion(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll();
        ExploreReport r = ExploreRuns.explore(fd, options(uri, dir, "data=ordered", true));
        assertEquals(List.of(), r.violations(), "no false alarm");
        assertTrue(r.results().size() >= 20, "states checked: " + r.results().size());
    }

    @Test
    void withoutAnFsyncTheRenameOvertakesTheData(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll();
        // noauto_da_alloc turns off ext4's heuristic that starts writing a file's delayed data
        // when it is renamed over another; then the data waits for writeback (30 s) while the
        // next fsync (of "other") commits the rename: every crash point after the first commit
        // holds an empty config, in every recording (with the heuristic on, the data races the
        // commit and about half the recordings miss it).
        ExploreReport r = ExploreRuns.explore(fd, options(uri, dir, "data=writeback,noauto_da_alloc", false));
        assertFalse(r.violations().isEmpty(), "no broken config: " + r.results());
        assertTrue(
                r.violations().getFirst().checkOutput().contains("config broken"),
                r.violations().getFirst().toString());
    }
}
