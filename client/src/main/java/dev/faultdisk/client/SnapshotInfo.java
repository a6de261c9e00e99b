package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.time.Instant;

/**
 * A snapshot as {@code query-snapshots} and {@code snapshot-create} show it.
 *
 * @param bytesChangedSince bytes written since the snapshot, in whole 4 KiB blocks
 */
public record SnapshotInfo(String device, String name, Instant time, long bytesChangedSince) {

    /** From the JSON form; {@code device} names the export when the reply does not. */
    public static SnapshotInfo from(Object value, String device) {
        Members m = Replies.object(value, "snapshot");
        return new SnapshotInfo(
                m.string("device", device),
                m.string("name"),
                Instant.parse(m.string("time")),
                m.integer("bytes-changed-since"));
    }
}
