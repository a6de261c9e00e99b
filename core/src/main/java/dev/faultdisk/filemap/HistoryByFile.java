package dev.faultdisk.filemap;

import dev.faultdisk.wire.history.HistoryEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recorded history (the recorder's entries) read per file: for each file, directory or
 * structure a {@link FileMap} names, how many changes touched it, how many bytes, the first and
 * last entry, and how many of its changes a completed flush covered by the end.
 */
public final class HistoryByFile {
    private HistoryByFile() {}

    /**
     * What the history did to one owner.
     *
     * @param kind        file, directory, metadata or unowned
     * @param name        the owner's name
     * @param changes     writes, trims and write-zeroes that touched it
     * @param bytes       bytes of it they changed
     * @param firstEntry  the first such entry's number
     * @param lastEntry   the last one's
     * @param durable     how many of them a flush that completed covered
     */
    public record Activity(
            String kind, String name, long changes, long bytes, long firstEntry, long lastEntry, long durable) {}

    /** The activity per owner, in the order owners were first touched. */
    public static List<Activity> of(List<HistoryEntry> entries, FileMap map) {
        Map<String, long[]> acc = new LinkedHashMap<>();
        Map<String, String> kinds = new LinkedHashMap<>();
        // a change is durable once a flush that began after it completed
        long lastDurableIndex = -1;
        for (HistoryEntry e : entries) {
            if (e.kind() == HistoryEntry.Kind.FLUSH_END && e.ref() >= 0) {
                lastDurableIndex = Math.max(lastDurableIndex, e.ref());
            }
        }
        for (HistoryEntry e : entries) {
            if (!e.isChange()) {
                continue;
            }
            for (Owner o : map.owners(e.offset(), e.length())) {
                long[] a = acc.computeIfAbsent(o.name(), k -> new long[] {0, 0, e.index(), e.index(), 0});
                kinds.putIfAbsent(o.name(), o.kind().wireName());
                a[0]++;
                a[1] += o.length();
                a[3] = e.index();
                if (e.fua() || e.index() < lastDurableIndex) {
                    a[4]++;
                }
            }
        }
        List<Activity> out = new ArrayList<>();
        acc.forEach((name, a) -> out.add(new Activity(kinds.get(name), name, a[0], a[1], a[2], a[3], a[4])));
        return out;
    }
}
