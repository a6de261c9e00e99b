package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;

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
public record HistoryInfo(boolean recording, String path, String base, long entries, long bytes, String failure) {

    /** From the JSON form. */
    public static HistoryInfo from(Object value) {
        Members m = Replies.object(value, "history");
        return new HistoryInfo(
                m.bool("recording"),
                m.string("path", ""),
                m.string("base", ""),
                m.integer("entries", 0),
                m.integer("bytes", 0),
                m.string("failure", null));
    }
}
