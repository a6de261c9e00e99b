package dev.faultdisk.client;

import dev.faultdisk.client.ReplyRecord.Absent;
import java.util.List;

/**
 * What {@code reset} cleared: the triggers removed, and per export the rest.
 *
 * @param triggers triggers removed (those naming the export, or all when every export was reset)
 */
public record ResetReport(long triggers, List<Export> exports) {

    /**
     * One export's part.
     *
     * @param reverted the revert, or null if the reset did not revert the data
     */
    public record Export(
            String device,
            long faultRules,
            long heldFailed,
            long heldReleased,
            long blkdebugRules,
            long breakpoints,
            long suspendedResumed,
            boolean flushErrorDisarmed,
            @Absent(Absent.NULL) SnapshotRevert reverted) {}

    /** From the JSON form. */
    public static ResetReport from(Object value) {
        return ReplyRecord.read(ResetReport.class, value, "reset reply");
    }
}
