package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;

/**
 * What {@code snapshot-revert} did: the bytes written since the snapshot that it dropped, and the
 * write cache's dirty data dropped with the old medium.
 */
public record SnapshotRevert(String name, long bytesReverted, long cacheBytesDropped, long cacheRangesDropped) {

    /** From the JSON form. */
    public static SnapshotRevert from(Object value) {
        Members m = Replies.object(value, "snapshot-revert reply");
        return new SnapshotRevert(
                m.string("name"),
                m.integer("bytes-reverted"),
                m.integer("cache-bytes-dropped"),
                m.integer("cache-ranges-dropped"));
    }
}
