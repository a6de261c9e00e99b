package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.StateResult;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.testkit.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * faultdisk explore on git on ext4: six commits, each acknowledged after a syncfs. With
 * {@code core.fsync=none} git renames a reference into place before the objects it names are on
 * the disk, so some crash states in the middle of a commit hold a corrupt repository; with
 * {@code core.fsync=all} none does. Budgets are small for CI.
 */
@Faultdisk(exports = "d=memory:64M")
class ExploreGitTest {
    private static final int COMMITS = 6;

    @Test
    void withoutFsyncACrashMidCommitLeavesACorruptRepository(
            FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        ExploreReport r = ExploreRuns.explore(fd, git(uri, dir, "none").maxStates(40));
        List<StateResult> corrupt =
                r.violations().stream().filter(s -> s.checkExit() == 3).toList();
        assertFalse(corrupt.isEmpty(), "no corrupt repository in " + r.results());
        assertTrue(
                corrupt.getFirst().checkOutput().contains("git fsck"),
                corrupt.getFirst().checkOutput());
        assertEquals(COMMITS, r.acks().size());
        assertFalse(r.minimized().isEmpty(), "the first failing crash point is minimized");
        ExploreRuns.assertNothingLeft(r.runDir());
    }

    @Test
    void withEveryFsyncNoStateIsCorruptOrLosesACommit(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreReport r = ExploreRuns.explore(fd, git(uri, dir, "all").maxStates(40));
        assertEquals(List.of(), r.violations(), "no false alarm");
        assertEquals(40, r.results().size(), "states checked");
        assertTrue(
                r.points().size() > COMMITS,
                "a crash point per fsync at least: " + r.points().size());
    }

    /** The git demonstration's commands with core.fsync set to {@code fsync}. */
    private static ExploreOptions.Builder git(String uri, Path dir, String fsync) {
        ExploreRuns.requireAll("git", "sync");
        assumeTrue(gitKnowsCoreFsync(), "git 2.36 or later (core.fsync) is needed; this one is older");
        return ExploreRuns.shell("git", "FSYNC=" + fsync + " COMMITS=" + COMMITS + " ", true, uri, dir);
    }

    private static boolean gitKnowsCoreFsync() {
        String version = Command.run(Duration.ofSeconds(10), "git", "--version")
                .assertOk("git --version")
                .stdout();
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+)").matcher(version);
        return m.find()
                && (Integer.parseInt(m.group(1)) > 2
                        || (Integer.parseInt(m.group(1)) == 2 && Integer.parseInt(m.group(2)) >= 36));
    }
}
