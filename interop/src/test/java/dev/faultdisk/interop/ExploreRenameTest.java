package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.Explorer;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application that replaces a file by writing a temporary file and renaming it over, on ext4.
 * With an fsync of the temporary file first, every crash state holds a whole version (data=ordered). Without it, the rename can reach the disk before the data: some crash states hold
 * a file of the right size that reads as zeroes. How often, per data mode, is in docs/EXPLORE.md
 * (bench/explore.sh).
 */
@Faultdisk(exports = "d=memory:64M")
class ExploreRenameTest {
    private static ExploreOptions options(String uri, Path dir, String mode, boolean fsync) {
        String env = "LINES=50000 VERSIONS=6 FSYNC=" + (fsync ? 1 : 0) + " ";
        return ExploreRuns.options(
                        uri,
                        dir,
                        env + "sh " + ExploreRuns.script("rename-workload.sh") + " \"$1\"",
                        env + "sh " + ExploreRuns.script("rename-check.sh") + " \"$1\"")
                .setup(env + "sh " + ExploreRuns.script("rename-setup.sh") + " \"$1\"")
                .mountOptions(mode)
                .maxStates(25)
                .build();
    }

    @Test
    void anFsyncBeforeTheRenameKeepsAWholeVersion(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll();
        ExploreReport r = Explorer.explore(fd, options(uri, dir, "data=ordered", true));
        assertEquals(List.of(), r.violations(), "no false alarm");
        assertTrue(r.results().size() >= 20, "states checked: " + r.results().size());
    }

    @Test
    void dataWritebackLeavesAZeroFilledFile(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll();
        // Whether a rename's commit overtakes its data depends on when the kernel writes the data
        // back: a recording without such a race is possible (on a quiet machine, about half of
        // them; three recordings all missed it once in six suite runs), so up to six are explored.
        ExploreReport r = null;
        for (int attempt = 0; attempt < 6; attempt++) {
            r = Explorer.explore(fd, options(uri, dir.resolve("a" + attempt), "data=writeback", false));
            if (!r.violations().isEmpty()) {
                break;
            }
            ExploreRuns.forgetRuns(fd);
        }
        assertFalse(r.violations().isEmpty(), "no broken config in six recordings: " + r.results());
        assertTrue(
                r.violations().getFirst().checkOutput().contains("config broken"),
                r.violations().getFirst().toString());
    }
}
