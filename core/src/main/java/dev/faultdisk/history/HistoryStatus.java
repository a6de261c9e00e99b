package dev.faultdisk.history;

import java.nio.file.Path;

/**
 * Where an export's history stands.
 *
 * @param recording true while requests are being recorded
 * @param path the history file (null if none was ever started)
 * @param baseSnapshot the snapshot holding the data before the first entry
 * @param entries entries logged
 * @param bytes bytes of history file
 * @param failure why recording stopped early ("overflowed" at the size budget, or "failed: ..."), or null
 */
public record HistoryStatus(
        boolean recording, Path path, String baseSnapshot, long entries, long bytes, String failure) {}
