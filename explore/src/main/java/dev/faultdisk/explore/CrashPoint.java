package dev.faultdisk.explore;

import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryEntry.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * A moment the power may fail in a recorded run, and what the disk may hold then (NBD's rule, the
 * write cache's model): every change a completed flush covered, and every FUA change, is there;
 * each other completed change ({@link #pending}) may or may not be, in any combination, and may be
 * torn at logical-block boundaries.
 *
 * @param number the crash point's number, from 0 in log order
 * @param at the log entry the crash comes just before: a flush's completion, or the end of the run
 * @param prefix every change logged before this entry is durable (the last completed flush covered it)
 * @param fua FUA changes at or after {@code prefix}: durable too
 * @param pending the other changes at or after {@code prefix}, in log order: each may be lost
 * @param acked keys the workload acknowledged before the crash ("ack KEY" marks), in order
 */
public record CrashPoint(int number, long at, long prefix, List<Long> fua, List<Long> pending, List<String> acked) {

    /** The crash points of a history: just before each flush completes, and at its end. */
    public static List<CrashPoint> of(List<HistoryEntry> entries) {
        List<CrashPoint> points = new ArrayList<>();
        long durable = 0;
        List<String> acked = new ArrayList<>();
        for (HistoryEntry e : entries) {
            if (e.kind() == Kind.FLUSH_END || e.kind() == Kind.END) {
                points.add(at(points.size(), e.index(), durable, entries, acked));
                if (e.kind() == Kind.FLUSH_END) {
                    durable = Math.max(durable, e.ref());
                }
            } else if (e.kind() == Kind.MARK && e.label().startsWith("ack ")) {
                acked.add(e.label().substring(4));
            }
        }
        if (entries.isEmpty() || entries.getLast().kind() != Kind.END) { // a history cut short ends here too
            points.add(at(points.size(), entries.size(), durable, entries, acked));
        }
        return points;
    }

    private static CrashPoint at(int number, long at, long durable, List<HistoryEntry> entries, List<String> acked) {
        List<Long> fua = new ArrayList<>();
        List<Long> pending = new ArrayList<>();
        for (long i = durable; i < at; i++) {
            HistoryEntry c = entries.get((int) i);
            if (c.isChange()) {
                (c.fua() ? fua : pending).add(i);
            }
        }
        return new CrashPoint(number, at, durable, List.copyOf(fua), List.copyOf(pending), List.copyOf(acked));
    }
}
