package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreException;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.Explorer;
import dev.faultdisk.explore.Verdict;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.wire.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * faultdisk explore given bad input: a failing workload, a hanging check, states that will not
 * mount, a stop with Ctrl-C. Each gets a clear answer, the server stays up, and nothing is left
 * attached. Also: nothing a state's check wrote can be read in the next state.
 */
@Faultdisk(exports = "d=memory:64M")
class ExploreBadInputTest {

    private static void assertExportIsBack(FaultdiskClient fd) {
        assertFalse(fd.queryHistory("d").recording(), "the history was stopped");
        List<String> snapshots =
                fd.querySnapshots("d").stream().map(s -> s.name()).toList();
        assertTrue(
                snapshots.stream().noneMatch(s -> s.endsWith(".final") || s.endsWith(".checkpoint")),
                "only the base snapshot stays: " + snapshots);
    }

    @Test
    void aFailingWorkloadIsReportedAndNothingIsLeft(FaultdiskClient fd, @TempDir Path dir) throws Exception {
        // no URI: the server's (a random port here) is asked for, and the workload runs on it
        String message = failedWorkload(fd, null, dir, "echo ack 1; echo broken >&2; exit 3");
        assertTrue(message.contains("the workload failed (exit 3): broken"), message);
        assertEquals("d", fd.queryBlock().getFirst().device(), "the server still serves");
    }

    @Test
    void aScriptGivenByARelativePathIsNotFoundAndTheMessageSaysWhy(
            FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        String message = failedWorkload(fd, uri, dir, "sh my-workload.sh \"$1\"");
        assertTrue(
                message.contains("run in the mount point " + dir.resolve("run").resolve("mnt"))
                        && message.contains("give their scripts by absolute path"),
                message);
    }

    @Test
    void anExportTheServerDoesNotHaveIsSaidOnceWithNothingToPutBack(FaultdiskClient fd, @TempDir Path dir) {
        ExploreRuns.requireAll();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        ExploreException e = assertThrows(
                ExploreException.class,
                () -> Explorer.explore(
                        fd,
                        ExploreOptions.builder("nope", "true", "true")
                                .runDir(dir.resolve("run"))
                                .progress(new PrintStream(progress, true, StandardCharsets.UTF_8))
                                .build()));
        assertTrue(e.getMessage().startsWith("the server has no export 'nope'"), e.getMessage());
        String said = progress.toString(StandardCharsets.UTF_8);
        assertFalse(said.contains("clean-up"), "no clean-up of an export that is not there: " + said);
        assertExportIsBack(fd);
    }

    /** Explores with a workload that fails: the message, once nothing is left and the export is back. */
    private static String failedWorkload(FaultdiskClient fd, String uri, Path dir, String workload) throws IOException {
        ExploreRuns.requireAll();
        ExploreException e = assertThrows(
                ExploreException.class,
                () -> Explorer.explore(
                        fd, ExploreRuns.options(uri, dir, workload, "true").build()));
        ExploreRuns.assertNothingLeft(dir.resolve("run"));
        assertExportIsBack(fd);
        return e.getMessage();
    }

    @Test
    void aHangingCheckTimesOutPerState(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll();
        ExploreReport r = Explorer.explore(
                fd,
                ExploreRuns.options(uri, dir, "echo x > \"$1/f\"; sync \"$1/f\"; echo ack 1", "sleep 600")
                        .stateTimeout(Duration.ofSeconds(2))
                        .maxStates(2)
                        .minimize(0)
                        .build());
        assertEquals(2, r.results().size());
        assertEquals(2, r.withVerdict(Verdict.CHECK_TIMEOUT).size(), "each check was cut off: " + r.results());
        ExploreRuns.assertNothingLeft(r.runDir());
    }

    @Test
    void aStateThatWillNotMountIsAViolationOfItsOwnKind(
            FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        ExploreRuns.requireAll();
        // The workload zeroes the primary superblock through the device, durably: ext4 refuses to
        // mount any state after that flush (it does not fall back to a backup superblock).
        String workload = "dd if=/dev/zero of=\"$FAULTDISK_DEVICE\" bs=1024 seek=1 count=1 oflag=direct conv=fsync"
                + " status=none && echo ack zeroed";
        ExploreReport r = Explorer.explore(
                fd,
                ExploreRuns.options(uri, dir, workload, "true")
                        .maxStates(6)
                        .minimize(0)
                        .build());
        assertFalse(r.withVerdict(Verdict.UNMOUNTABLE).isEmpty(), "states: " + r.results());
        assertTrue(
                r.withVerdict(Verdict.UNMOUNTABLE).getFirst().mountMessage().contains("mount"),
                r.withVerdict(Verdict.UNMOUNTABLE).getFirst().mountMessage());
        assertTrue(Files.readString(r.json()).contains("\"unmountable\""));
        ExploreRuns.assertNothingLeft(r.runDir());
    }

    @Test
    void nothingAStateWroteReachesTheNext(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir)
            throws Exception {
        ExploreRuns.requireAll();
        // Each check leaves a marker (and journal recovery writes too); every state must start
        // from the server's bytes, not from what the kernel cached from the state before.
        String workload = "for i in 1 2 3 4; do echo $i > \"$1/f$i\"; sync \"$1/f$i\"; echo ack $i; done";
        String check = "test ! -e \"$1/marker\" || { echo \"marker of state $(cat \"$1/marker\") seen\"; exit 1; };"
                + " echo $FAULTDISK_STATE > \"$1/marker\"; sync \"$1/marker\";"
                + " for k in $(cat \"$2\"); do test -s \"$1/f$k\" || exit 2; done";
        ExploreReport r = Explorer.explore(
                fd, ExploreRuns.options(uri, dir, workload, check).maxStates(12).build());
        assertEquals(List.of(), r.violations());
        assertTrue(r.results().size() >= 10, "states checked: " + r.results().size());
    }

    @Test
    void aMountNamespaceMadeDuringACheckDoesNotKeepTheStateAlive(
            FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        ExploreRuns.requireAll("unshare", "nsenter");
        // A program that makes a mount namespace while a state is mounted (here: the check, from
        // / so that only the copy holds the file system) gets a copy of the mount; on a private
        // root the copy outlives explore's unmount, and the next mount of the device would take
        // over the live file system, marker and all, instead of reading the next state. explore
        // unmounts such copies and waits until the file system is gone (without: 5 of 6 states
        // saw the marker).
        String workload = "for i in 1 2 3; do echo $i > \"$1/f$i\"; sync \"$1/f$i\"; echo ack $i; done";
        String check = "test ! -e \"$1/marker\" || { echo \"marker of state $(cat \"$1/marker\") seen\"; exit 1; };"
                + " echo $FAULTDISK_STATE > \"$1/marker\";"
                + " (cd / && unshare --mount --propagation private sleep 3 </dev/null >/dev/null 2>&1 &);"
                + " for k in $(cat \"$2\"); do test -s \"$1/f$k\" || exit 2; done";
        ExploreReport r = ExploreRuns.explore(
                fd, ExploreRuns.options(uri, dir, workload, check).maxStates(6));
        assertEquals(List.of(), r.violations());
        assertTrue(r.results().size() >= 5, "states checked: " + r.results().size());
    }

    private static String output(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Test
    void ctrlCKeepsThePartialReportAndLeavesNothing(FaultdiskClient fd, @TempDir Path dir) throws Exception {
        ExploreRuns.requireAll();
        Path run = dir.resolve("run");
        List<String> command = FaultdiskCli.interruptible(
                "explore",
                "--qmp",
                fd.address(),
                "--export",
                "d", // no --uri: explore asks the server where the export is served
                "--run-dir",
                run.toString(),
                "--workload",
                "for i in 1 2 3 4 5 6; do echo $i > \"$1/f$i\"; sync \"$1/f$i\"; echo ack $i; done",
                "--check",
                "echo x >> \"$FAULTDISK_RUN/checks\"; sleep 0.3",
                "--max-states",
                "500");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> !p.isAlive()
                            || (Files.exists(run.resolve("checks"))
                                    && Files.readAllLines(run.resolve("checks")).size() >= 3));
            assertTrue(p.isAlive(), () -> "explore ended early: " + output(p));
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "explore stops after Ctrl-C");
            String output = output(p);
            assertTrue(output.contains("INTERRUPTED"), output);
        } finally {
            p.destroyForcibly();
        }
        ExploreRuns.assertNothingLeft(run);
        assertExportIsBack(fd);
        Map<String, Object> report = Json.parseObject(Files.readString(run.resolve("report.json")));
        assertEquals(true, report.get("interrupted"));
        long checked = (Long) report.get("checked");
        assertTrue(checked > 0 && checked < 500, "the states checked before the stop are kept: " + checked);
        assertTrue(Files.exists(run.resolve("report.html")));
    }
}
