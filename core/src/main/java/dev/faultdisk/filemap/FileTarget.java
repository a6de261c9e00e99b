package dev.faultdisk.filemap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A fault rule's or trigger's target given as a file (and optionally a byte range inside it),
 * resolved to the export byte ranges the file occupies. Resolution happens when the rule is added
 * and again whenever {@link FileBinding#refresh} is asked for: the ranges are a picture of the
 * file's blocks at that moment. A file that grows later gets new blocks the target does not cover
 * until the next refresh; a range reaching past the file's end covers what exists and grows with
 * the file at each refresh.
 */
public final class FileTarget {
    /** Up to the end of the file, whatever it is at each resolution. */
    public static final long TO_END = -1;

    private final String path;
    private final long fileOffset;
    private final long fileLength;
    /** Sorted, merged, non-overlapping [start, end) pairs on the export; replaced whole on refresh. */
    private volatile long[] ranges = new long[0];

    private volatile long resolvedBytes;

    FileTarget(String path, long fileOffset, long fileLength) {
        this.path = path;
        this.fileOffset = fileOffset;
        this.fileLength = fileLength;
    }

    /** The file, absolute. */
    public String path() {
        return path;
    }

    /** True if {@code [offset, offset + length)} touches the file's (range's) blocks. */
    public boolean overlaps(long offset, long length) {
        long[] r = ranges;
        long end = offset + Math.max(1, length);
        // first pair whose end is past offset
        int lo = 0;
        int hi = r.length / 2;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (r[2 * mid + 1] <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < r.length / 2 && r[2 * lo] < end;
    }

    /** Takes the file's extents now: keeps the parts inside the file range, merged by device order. */
    void update(List<Extent> extents) {
        long from = fileOffset;
        long to = fileLength == TO_END ? Long.MAX_VALUE : fileOffset + fileLength;
        List<long[]> pieces = new ArrayList<>();
        long bytes = 0;
        for (Extent e : extents) {
            long s = Math.max(from, e.fileOffset());
            long t = Math.min(to, e.fileOffset() + e.length());
            if (s < t) {
                long dev = e.deviceOffset() + (s - e.fileOffset());
                pieces.add(new long[] {dev, dev + (t - s)});
                bytes += t - s;
            }
        }
        pieces.sort((a, b) -> Long.compare(a[0], b[0]));
        long[] out = new long[pieces.size() * 2];
        int n = 0;
        for (long[] p : pieces) {
            if (n > 0 && out[n - 1] >= p[0]) {
                out[n - 1] = Math.max(out[n - 1], p[1]);
            } else {
                out[n++] = p[0];
                out[n++] = p[1];
            }
        }
        ranges = Arrays.copyOf(out, n);
        resolvedBytes = bytes;
    }

    /** The export ranges as {@code [offset, length]} pairs, for listings. */
    public List<List<Long>> ranges() {
        long[] r = ranges;
        List<List<Long>> out = new ArrayList<>();
        for (int i = 0; i < r.length; i += 2) {
            out.add(List.of(r[i], r[i + 1] - r[i]));
        }
        return out;
    }

    /** The members a listing shows: file, its range, and what it resolved to. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", path);
        if (fileOffset != 0) {
            m.put("file-offset", fileOffset);
        }
        if (fileLength != TO_END) {
            m.put("file-length", fileLength);
        }
        m.put("resolved-bytes", resolvedBytes);
        m.put("resolved-ranges", ranges.length / 2);
        return m;
    }
}
