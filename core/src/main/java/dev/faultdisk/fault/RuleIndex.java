package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import java.util.Arrays;

/**
 * Finds the rules whose byte range a request overlaps without walking every rule, so that
 * thousands of range rules cost little more than none. Rules covering much of the export
 * ("broad") are checked for every request; the others are kept sorted by start with the running
 * maximum of their ends, an interval search that visits only rules starting within reach of the
 * request. Candidates come back in the rules' acting order.
 */
final class RuleIndex {
    /** Below this many rules a plain walk is as fast. */
    private static final int INDEXED_FROM = 32;

    private final FaultRule[] ordered;
    private final boolean indexed;
    private final int[] broad;
    private final long[] starts;
    private final long[] ends;
    private final long[] maxEnd;
    private final int[] positions;

    RuleIndex(FaultRule[] ordered, long exportSize) {
        this.ordered = ordered;
        this.indexed = ordered.length >= INDEXED_FROM;
        if (!indexed) {
            broad = positions = new int[0];
            starts = ends = maxEnd = new long[0];
            return;
        }
        long broadLength = Math.max(1, exportSize / 64);
        int nBroad = 0;
        for (FaultRule r : ordered) {
            if (isBroad(r, broadLength)) {
                nBroad++;
            }
        }
        broad = new int[nBroad];
        Integer[] narrow = new Integer[ordered.length - nBroad];
        int b = 0;
        int n = 0;
        for (int i = 0; i < ordered.length; i++) {
            if (isBroad(ordered[i], broadLength)) {
                broad[b++] = i;
            } else {
                narrow[n++] = i;
            }
        }
        Arrays.sort(
                narrow,
                (x, y) -> Long.compare(
                        ordered[x].targeting().offset(), ordered[y].targeting().offset()));
        starts = new long[narrow.length];
        ends = new long[narrow.length];
        maxEnd = new long[narrow.length];
        positions = new int[narrow.length];
        long max = Long.MIN_VALUE;
        for (int i = 0; i < narrow.length; i++) {
            Targeting t = ordered[narrow[i]].targeting();
            starts[i] = t.offset();
            ends[i] = t.end();
            max = Math.max(max, t.end());
            maxEnd[i] = max;
            positions[i] = narrow[i];
        }
    }

    private static boolean isBroad(FaultRule r, long broadLength) {
        Targeting t = r.targeting();
        return t.end() - t.offset() > broadLength || t.ops().contains(BlockOp.FLUSH);
    }

    /** The rules that may select {@code r}, in acting order (a superset: each still checks itself). */
    FaultRule[] candidates(BlockRequest r) {
        if (!indexed || r.op() == BlockOp.FLUSH) {
            return ordered;
        }
        long from = r.offset();
        long to = r.offset() + Math.max(1, r.length());
        // The last narrow rule starting before the request ends.
        int lo = 0;
        int hi = starts.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] < to) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        int[] found = new int[broad.length + 8];
        System.arraycopy(broad, 0, found, 0, broad.length);
        int count = broad.length;
        for (int i = lo - 1; i >= 0 && maxEnd[i] > from; i--) {
            if (ends[i] > from) {
                if (count == found.length) {
                    found = Arrays.copyOf(found, count * 2);
                }
                found[count++] = positions[i];
            }
        }
        if (count == 0) {
            return NONE;
        }
        if (count > broad.length) {
            Arrays.sort(found, 0, count);
        }
        FaultRule[] out = new FaultRule[count];
        for (int i = 0; i < count; i++) {
            out[i] = ordered[found[i]];
        }
        return out;
    }

    private static final FaultRule[] NONE = new FaultRule[0];
}
