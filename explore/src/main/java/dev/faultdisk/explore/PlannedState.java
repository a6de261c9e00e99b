package dev.faultdisk.explore;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * One crash state to check: at crash point {@code point}, the durable changes (every change before
 * {@code prefix}) plus {@code applied} (FUA changes and the chosen pending ones), some of them
 * {@code torn} (only the listed 512-byte blocks landed).
 *
 * @param id the state's number in the run
 * @param point the crash point
 * @param how how it was chosen: none, all, prefix, random, torn, or minimize
 * @param prefix every change logged before this entry landed
 * @param applied later changes that landed
 * @param torn of those, the ones that landed only in some blocks
 */
public record PlannedState(
        int id, int point, String how, long prefix, SortedSet<Long> applied, Map<Long, List<Integer>> torn) {

    /** What makes two states the same disk at the same crash point. */
    String key() {
        return point + "|" + prefix + "|" + applied + "|" + new java.util.TreeMap<>(torn);
    }

    PlannedState withId(int newId) {
        return new PlannedState(newId, point, how, prefix, applied, torn);
    }
}
