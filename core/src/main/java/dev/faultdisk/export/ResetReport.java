package dev.faultdisk.export;

/**
 * What a reset of one export cleared, per family; {@code revert} is null unless data was reverted
 * to a snapshot.
 */
public record ResetReport(
        int faultRules,
        int heldFailed,
        int heldReleased,
        int blkdebugRules,
        int breakpoints,
        int suspendedResumed,
        boolean flushErrorDisarmed,
        SnapshotRevert revert) {}
