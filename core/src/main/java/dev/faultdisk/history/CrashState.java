package dev.faultdisk.history;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * A crash state of a recorded history, as the changes that reached the medium: every change
 * logged before entry {@code prefix}, then the listed later changes, in log order; a change in
 * {@code torn} lands only in the listed blocks (logical blocks of the history's block size,
 * counted from the change's first byte). This is the state's whole description: with the
 * history's base snapshot it gives the same bytes every time.
 *
 * @param prefix number of log entries whose changes all landed
 * @param applied indexes of later changes that landed too (whole, or torn)
 * @param torn for some of {@code applied}: the blocks of that change that landed
 */
public record CrashState(long prefix, SortedSet<Long> applied, Map<Long, List<Integer>> torn) {
    public CrashState {
        if (prefix < 0) {
            throw new IllegalArgumentException("prefix must be >= 0, not " + prefix);
        }
        for (long i : applied) {
            if (i < prefix) {
                throw new IllegalArgumentException("applied entry " + i + " lies within the prefix " + prefix);
            }
        }
        for (Long i : torn.keySet()) {
            if (!applied.contains(i)) {
                throw new IllegalArgumentException("torn entry " + i + " is not among the applied ones");
            }
        }
        applied = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(applied));
        torn = Map.copyOf(torn);
    }
}
