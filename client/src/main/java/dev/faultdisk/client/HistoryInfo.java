package dev.faultdisk.client;

import dev.faultdisk.client.ReplyRecord.Absent;

/**
 * A recorded history as {@code history-start}, {@code history-stop} and {@code query-history}
 * show it (docs/EXPLORE.md).
 *
 * @param recording true while the export's requests are being recorded
 * @param path the history file (empty if the export never recorded one)
 * @param base the snapshot holding the data before the first entry
 * @param entries entries logged so far
 * @param bytes bytes of history file so far
 * @param failure why recording stopped early ("overflowed", or "failed: ..."), or null
 */
public record HistoryInfo(
        boolean recording,
        @Absent("") String path,
        @Absent("") String base,
        @Absent("0") long entries,
        @Absent("0") long bytes,
        @Absent(Absent.NULL) String failure) {

    /** From the JSON form. */
    public static HistoryInfo from(Object value) {
        return ReplyRecord.read(HistoryInfo.class, value, "history");
    }
}
