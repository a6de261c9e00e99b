package dev.faultdisk.cache;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The dirty ranges of a write cache: non-overlapping extents, each holding the newest cached
 * content of its bytes and naming the write (by sequence number) that put it there. A newer
 * write replaces the parts of older extents it covers, as a disk cache holds one version of each
 * block. Per write it also tracks when it was cached and how many of its bytes are still dirty,
 * which gives the oldest dirty write's age. Not thread-safe: the cache guards it with its lock.
 */
final class DirtyMap {

    /** What an extent holds. Only DATA has bytes in the overlay; the others read as zeroes. */
    enum Kind {
        DATA,
        ZERO,
        ZERO_NO_HOLE,
        TRIM
    }

    /** A dirty extent {@code [start, end)} written by write {@code seq}. */
    record Extent(long start, long end, long seq, Kind kind) {
        long length() {
            return end - start;
        }

        Extent clip(long from, long to) {
            return new Extent(Math.max(start, from), Math.min(end, to), seq, kind);
        }
    }

    /** A cached write that still has dirty bytes. */
    private static final class Write {
        final Instant cachedAt;
        long liveBytes;

        Write(Instant cachedAt) {
            this.cachedAt = cachedAt;
        }
    }

    private final TreeMap<Long, Extent> extents = new TreeMap<>();
    private final TreeMap<Long, Write> writes = new TreeMap<>();
    private long dirtyBytes;

    boolean isEmpty() {
        return extents.isEmpty();
    }

    /** Number of extents (pieces of writes). */
    int extentCount() {
        return extents.size();
    }

    long dirtyBytes() {
        return dirtyBytes;
    }

    /** Writes with at least one dirty byte. */
    int writeCount() {
        return writes.size();
    }

    /** When the oldest write that still has dirty bytes was cached, or null if clean. */
    Instant oldestCachedAt() {
        return writes.isEmpty() ? null : writes.firstEntry().getValue().cachedAt;
    }

    /**
     * Caches write {@code seq} over {@code [start, end)}, replacing what older writes left there.
     * Returns the replaced pieces (their DATA bytes in the overlay are now unused).
     */
    List<Extent> put(long start, long end, long seq, Kind kind, Instant now) {
        List<Extent> replaced = remove(start, end);
        extents.put(start, new Extent(start, end, seq, kind));
        Write w = writes.computeIfAbsent(seq, s -> new Write(now));
        w.liveBytes += end - start;
        dirtyBytes += end - start;
        return replaced;
    }

    /** Removes every dirty byte in {@code [start, end)}; returns the removed pieces, in order. */
    List<Extent> remove(long start, long end) {
        List<Extent> removed = new ArrayList<>();
        if (start >= end || extents.isEmpty()) {
            return removed;
        }
        Map.Entry<Long, Extent> first = extents.lowerEntry(start);
        Long from = first != null && first.getValue().end() > start ? first.getKey() : Long.valueOf(start);
        NavigableMap<Long, Extent> hit = extents.subMap(from, true, end, false);
        List<Extent> overlapping = new ArrayList<>(hit.values());
        hit.clear();
        for (Extent e : overlapping) {
            if (e.start() < start) {
                extents.put(e.start(), new Extent(e.start(), start, e.seq(), e.kind()));
            }
            if (e.end() > end) {
                extents.put(end, new Extent(end, e.end(), e.seq(), e.kind()));
            }
            Extent gone = e.clip(start, end);
            removed.add(gone);
            forget(gone);
        }
        return removed;
    }

    /** The extents overlapping {@code [start, end)}, clipped to it, in order. */
    List<Extent> overlapping(long start, long end) {
        List<Extent> out = new ArrayList<>();
        if (start >= end || extents.isEmpty()) {
            return out;
        }
        Map.Entry<Long, Extent> first = extents.lowerEntry(start);
        if (first != null && first.getValue().end() > start) {
            out.add(first.getValue().clip(start, end));
        }
        for (Extent e : extents.subMap(start, true, end, false).values()) {
            out.add(e.clip(start, end));
        }
        return out;
    }

    /** True if any dirty byte lies in {@code [start, end)}. */
    boolean intersects(long start, long end) {
        if (start >= end || extents.isEmpty()) {
            return false;
        }
        Map.Entry<Long, Extent> floor = extents.floorEntry(start);
        if (floor != null && floor.getValue().end() > start) {
            return true;
        }
        Long next = extents.higherKey(start);
        return next != null && next < end;
    }

    /** Every extent, in offset order. */
    List<Extent> all() {
        return new ArrayList<>(extents.values());
    }

    /** The dirty bytes as maximal contiguous ranges {start, end}, in order. */
    List<long[]> mergedRanges() {
        List<long[]> out = new ArrayList<>();
        for (Extent e : extents.values()) {
            long[] last = out.isEmpty() ? null : out.getLast();
            if (last != null && last[1] == e.start()) {
                last[1] = e.end();
            } else {
                out.add(new long[] {e.start(), e.end()});
            }
        }
        return out;
    }

    /** Number of maximal contiguous dirty ranges. */
    int mergedRangeCount() {
        int count = 0;
        long lastEnd = -1;
        for (Extent e : extents.values()) {
            if (e.start() != lastEnd) {
                count++;
            }
            lastEnd = e.end();
        }
        return count;
    }

    void clear() {
        extents.clear();
        writes.clear();
        dirtyBytes = 0;
    }

    private void forget(Extent gone) {
        dirtyBytes -= gone.length();
        Write w = writes.get(gone.seq());
        w.liveBytes -= gone.length();
        if (w.liveBytes == 0) {
            writes.remove(gone.seq());
        }
    }
}
