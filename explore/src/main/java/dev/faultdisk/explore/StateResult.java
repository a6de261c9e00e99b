package dev.faultdisk.explore;

/**
 * What checking one crash state gave.
 *
 * @param state the state
 * @param acked how many acknowledged keys the check was given
 * @param verdict the outcome
 * @param mountMessage why mounting failed, or empty
 * @param checkExit the check's exit status (-1 if it did not run or timed out)
 * @param checkOutput the tail of the check's output
 * @param fsckClean whether the read-only fsck found nothing (true if it did not run)
 * @param fsckOutput the tail of fsck's output when it found something
 * @param millis how long the state took, materializing included
 */
public record StateResult(
        PlannedState state,
        int acked,
        Verdict verdict,
        String mountMessage,
        int checkExit,
        String checkOutput,
        boolean fsckClean,
        String fsckOutput,
        long millis) {}
