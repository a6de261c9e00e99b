package dev.faultdisk.cli.campaign;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A run's outcome: the check's word, amended by what only the runner saw. */
class VerdictTest {
    private static final CampaignSpec.Timeouts TIMEOUTS = new CampaignSpec.Timeouts(
            Duration.ofSeconds(30),
            Duration.ofSeconds(60),
            Duration.ofSeconds(120),
            Duration.ofSeconds(45),
            Duration.ofSeconds(10));
    private static final Map<String, NodeProcess.End> STOPPED = Map.of("n1", new NodeProcess.End(false, 0, false));

    private static Shell.Result printed(String output) {
        return new Shell.Result(0, false, output);
    }

    private static Verdict verdict(
            String failure,
            Shell.Result check,
            Shell.Result workload,
            Map<String, NodeProcess.End> ends,
            List<String> notUp,
            long fired) {
        return Verdict.of(new Verdict.Evidence(failure, check, workload, ends, notUp, fired), TIMEOUTS);
    }

    private static Verdict checked(String output, long fired) {
        return verdict(null, printed(output), printed(""), STOPPED, List.of(), fired);
    }

    @Test
    void theCheckNamesTheOutcomeByTheFirstWordOfItsLastLine() {
        assertEquals(new Verdict(Outcome.CORRECT, ""), checked("reading 100 keys\ncorrect 100 of 100\n", 1));
        assertEquals(new Verdict(Outcome.DATA_LOST, ""), checked("data-lost key 7", 3));
        assertEquals(
                new Verdict(Outcome.CAMPAIGN_ERROR, "the check printed no outcome ('maybe')"), checked("maybe so", 1));
        assertEquals(new Verdict(Outcome.CAMPAIGN_ERROR, "the check printed no outcome ('')"), checked("  \n", 1));
    }

    @Test
    void aFaultThatNeverFiredMakesCorrectNotHitAndIsNotedBesideAnythingElse() {
        assertEquals(new Verdict(Outcome.NOT_HIT, ""), checked("correct", 0));
        assertEquals(
                new Verdict(Outcome.UNAVAILABLE, "the fault never fired: this outcome came without it"),
                checked("unavailable", 0));
    }

    @Test
    void aCrashedHungOrMissingNodeTurnsCorrectDataIntoNodeCrashed() {
        Map<String, NodeProcess.End> ends = Map.of("n2", new NodeProcess.End(true, 137, false));
        assertEquals(
                new Verdict(Outcome.NODE_CRASHED, "n2 exited 137"),
                verdict(null, printed("correct"), printed(""), ends, List.of(), 1));
        Map<String, NodeProcess.End> hung = Map.of("n1", new NodeProcess.End(false, null, true));
        assertEquals(
                new Verdict(Outcome.NODE_CRASHED, "n1 hung (killed after 10 s)"),
                verdict(null, printed("reduced-redundancy"), printed(""), hung, List.of(), 1));
        assertEquals(
                new Verdict(Outcome.NODE_CRASHED, "n3 did not start"),
                verdict(null, printed("correct"), printed(""), STOPPED, List.of("n3"), 1));
    }

    @Test
    void aCrashDoesNotHideWorseData() {
        Map<String, NodeProcess.End> ends = Map.of("n2", new NodeProcess.End(true, 1, false));
        assertEquals(
                new Verdict(Outcome.WRONG_RESULT, "n2 exited 1"),
                verdict(null, printed("wrong-result"), printed(""), ends, List.of(), 1));
    }

    @Test
    void timeoutsMakeTheClusterUnavailableUnlessTheCheckSawWorse() {
        assertEquals(
                new Verdict(Outcome.UNAVAILABLE, "the check timed out after 45 s"),
                verdict(null, new Shell.Result(-1, true, "correct"), printed(""), STOPPED, List.of(), 1));
        assertEquals(
                new Verdict(Outcome.UNAVAILABLE, "the check timed out after 45 s"),
                verdict(null, null, printed(""), STOPPED, List.of(), 1));
        Shell.Result slowWorkload = new Shell.Result(-1, true, "");
        assertEquals(
                new Verdict(Outcome.UNAVAILABLE, "the workload timed out"),
                verdict(null, printed("correct"), slowWorkload, STOPPED, List.of(), 1));
        assertEquals(
                new Verdict(Outcome.DATA_LOST, "the workload timed out"),
                verdict(null, printed("data-lost"), slowWorkload, STOPPED, List.of(), 1));
    }

    @Test
    void aFailedStepIsTheCampaignsErrorWhateverElseHappened() {
        assertEquals(
                new Verdict(Outcome.CAMPAIGN_ERROR, "mount failed; n2 exited 1"),
                verdict("mount failed", null, null, Map.of("n2", new NodeProcess.End(true, 1, false)), List.of(), 0));
    }
}
