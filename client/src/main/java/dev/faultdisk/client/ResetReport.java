package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
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
            SnapshotRevert reverted) {}

    /** From the JSON form. */
    public static ResetReport from(Object value) {
        Members m = Replies.object(value, "reset reply");
        List<Export> exports = m.list("exports").stream()
                .map(e -> {
                    Members x = Replies.object(e, "exports[]");
                    return new Export(
                            x.string("device"),
                            x.integer("fault-rules"),
                            x.integer("held-failed"),
                            x.integer("held-released"),
                            x.integer("blkdebug-rules"),
                            x.integer("breakpoints"),
                            x.integer("suspended-resumed"),
                            x.bool("flush-error-disarmed"),
                            x.has("reverted") ? SnapshotRevert.from(x.any("reverted")) : null);
                })
                .toList();
        return new ResetReport(m.integer("triggers"), exports);
    }
}
