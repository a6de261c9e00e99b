package dev.faultdisk.cache;

import dev.faultdisk.cache.DirtyMap.Extent;
import dev.faultdisk.cache.DirtyMap.Kind;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.CoalescingExtentSink;
import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.util.List;

/** Block status through a write cache: cached extents over the medium's own map. */
final class CachedExtents {
    private CachedExtents() {}

    /**
     * Reports the range of {@code r} to {@code sink}: the cached extents {@code hits} (in order,
     * clipped to the range) with their own flags, the gaps between them as the medium reports them.
     */
    static void report(BlockDevice medium, BlockRequest r, List<Extent> hits, ExtentSink sink) throws IOException {
        CoalescingExtentSink runs = new CoalescingExtentSink(sink);
        long pos = r.offset();
        long end = pos + r.length();
        for (Extent e : hits) {
            if (e.start() > pos && !below(medium, r, pos, e.start(), runs)) {
                runs.finish();
                return;
            }
            if (!runs.accept(e.length(), flagsOf(e.kind()))) {
                return;
            }
            pos = e.end();
        }
        if (pos < end) {
            below(medium, r, pos, end, runs);
        }
        runs.finish();
    }

    /** Forwards the medium's extents of {@code [from, to)}; false if the enumeration must stop. */
    private static boolean below(BlockDevice medium, BlockRequest r, long from, long to, CoalescingExtentSink runs)
            throws IOException {
        long want = to - from;
        long[] covered = {0};
        boolean[] stopped = {false};
        medium.extents(r.at(from, want), (len, flags) -> {
            long take = Math.min(len, want - covered[0]);
            if (take <= 0) {
                return false;
            }
            covered[0] += take;
            if (!runs.accept(take, flags)) {
                stopped[0] = true;
                return false;
            }
            return covered[0] < want;
        });
        return !stopped[0] && covered[0] == want; // a gap cannot be reported: stop there
    }

    private static int flagsOf(Kind kind) {
        return switch (kind) {
            case DATA -> 0;
            case ZERO_NO_HOLE -> ExtentSink.ZERO;
            case ZERO, TRIM -> ExtentSink.HOLE | ExtentSink.ZERO;
        };
    }
}
