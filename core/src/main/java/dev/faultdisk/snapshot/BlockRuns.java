package dev.faultdisk.snapshot;

import java.util.Map;
import java.util.TreeMap;

/**
 * Disjoint runs of whole 4 KiB blocks, merged as they are added: how a delta records a zero of
 * many blocks in one entry instead of an index entry a block (a zero of 16 TiB would otherwise
 * take 4 billion). Not thread-safe: the delta's lock guards it.
 */
final class BlockRuns {
    /** Visits one run of blocks, {@code [first, end)}. */
    @FunctionalInterface
    interface RunConsumer {
        void accept(long first, long end);
    }

    /** First block of a run to the block after its last. */
    private final TreeMap<Long, Long> runs = new TreeMap<>();

    private long blocks;

    boolean isEmpty() {
        return runs.isEmpty();
    }

    /** Blocks the runs cover. */
    long blocks() {
        return blocks;
    }

    /** Adds {@code [first, end)}, merged with the runs it overlaps or touches. */
    void add(long first, long end) {
        long from = first;
        long to = end;
        Map.Entry<Long, Long> before = runs.floorEntry(from);
        if (before != null && before.getValue() >= from) {
            from = before.getKey();
            to = Math.max(to, before.getValue());
            remove(before);
        }
        for (Map.Entry<Long, Long> next = runs.ceilingEntry(from);
                next != null && next.getKey() <= to;
                next = runs.ceilingEntry(from)) {
            to = Math.max(to, next.getValue());
            remove(next);
        }
        runs.put(from, to);
        blocks += to - from;
    }

    /** Whether a run covers {@code block}. */
    boolean covers(long block) {
        return endOfRunAt(block) >= 0;
    }

    /** The end of the run covering {@code block}, or -1 if none does. */
    long endOfRunAt(long block) {
        Map.Entry<Long, Long> run = runs.floorEntry(block);
        return run != null && block < run.getValue() ? run.getValue() : -1;
    }

    /** The first block at or after {@code block} that a run covers, or {@link Long#MAX_VALUE}. */
    long nextCovered(long block) {
        if (endOfRunAt(block) >= 0) {
            return block;
        }
        Long next = runs.ceilingKey(block);
        return next == null ? Long.MAX_VALUE : next;
    }

    void forEach(RunConsumer consumer) {
        runs.forEach(consumer::accept);
    }

    private void remove(Map.Entry<Long, Long> run) {
        runs.remove(run.getKey());
        blocks -= run.getValue() - run.getKey();
    }
}
