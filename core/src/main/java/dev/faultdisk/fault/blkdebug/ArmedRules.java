package dev.faultdisk.fault.blkdebug;

import java.util.ArrayList;
import java.util.List;

/**
 * The armed inject-error rules in definition order, indexed for the check: the rules for any
 * sector in order, and the sector rules sorted by byte offset (unsigned, as QEMU compares),
 * so that a request looks only at the sector rules inside its range.
 */
final class ArmedRules {
    static final ArmedRules NONE = new ArmedRules(RuleEntry.NONE);

    final RuleEntry[] entries;
    private final RuleEntry[] anySector;
    private final long[] offsets;
    private final RuleEntry[] byOffset;

    private ArmedRules(RuleEntry[] entries) {
        this.entries = entries;
        List<RuleEntry> any = new ArrayList<>();
        List<RuleEntry> placed = new ArrayList<>();
        for (RuleEntry e : entries) {
            (e.inject().sector() == InjectErrorRule.ANY_SECTOR ? any : placed).add(e);
        }
        placed.sort((x, y) -> Long.compareUnsigned(x.offset(), y.offset()));
        this.anySector = any.toArray(RuleEntry.NONE);
        this.byOffset = placed.toArray(RuleEntry.NONE);
        this.offsets = new long[byOffset.length];
        for (int i = 0; i < byOffset.length; i++) {
            offsets[i] = byOffset[i].offset();
        }
    }

    static ArmedRules of(List<RuleEntry> entries) {
        return entries.isEmpty() ? NONE : new ArmedRules(entries.toArray(RuleEntry.NONE));
    }

    /** The first defined armed rule that matches the request (QEMU's rule_check loop), or null. */
    RuleEntry firstMatch(IoType type, long offset, long bytes) {
        int bit = 1 << type.ordinal();
        RuleEntry best = null;
        for (RuleEntry e : anySector) {
            if ((e.ioMask() & bit) != 0) {
                best = e;
                break;
            }
        }
        if (bytes == 0 || byOffset.length == 0) {
            return best;
        }
        long end = offset + bytes;
        for (int i = lowerBound(offset); i < byOffset.length && Long.compareUnsigned(offsets[i], end) < 0; i++) {
            RuleEntry e = byOffset[i];
            if ((e.ioMask() & bit) != 0 && (best == null || e.seq() < best.seq())) {
                best = e;
            }
        }
        return best;
    }

    /** The first index whose offset is at least {@code offset}, unsigned. */
    private int lowerBound(long offset) {
        int lo = 0;
        int hi = offsets.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(offsets[mid], offset) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
