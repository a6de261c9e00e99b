package dev.faultdisk.client;

/**
 * What {@code snapshot-revert} did: the bytes written since the snapshot that it dropped, and the
 * write cache's dirty data dropped with the old medium.
 */
public record SnapshotRevert(String name, long bytesReverted, long cacheBytesDropped, long cacheRangesDropped) {

    /** From the JSON form. */
    public static SnapshotRevert from(Object value) {
        return ReplyRecord.read(SnapshotRevert.class, value, "snapshot-revert reply");
    }
}
