package dev.faultdisk.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * The 4 KiB blocks written over a state of a disk: a layer of a copy-on-write chain. While live
 * it takes writes; once a snapshot freezes it, it never changes and may be shared by snapshots
 * and clones, which hold references to it; the last one to let go closes its storage.
 */
final class Delta {
    /** Makes a delta's storage when its first block arrives, so an empty delta costs no file. */
    @FunctionalInterface
    interface Storage {
        SlotStore create() throws IOException;
    }

    private final BlockIndex index = new BlockIndex();
    /** Runs of blocks zeroed whole; a block the index holds is as the index says, whatever the runs. */
    private final BlockRuns zeroRuns = new BlockRuns();

    private final Storage storage;
    private final AtomicInteger references = new AtomicInteger(1);
    private SlotStore store;

    Delta(Storage storage) {
        this.storage = storage;
    }

    /** The slot of {@code block}, {@link BlockIndex#ZERO}, or {@link BlockIndex#MISSING}. */
    int lookup(long block) {
        int slot = index.get(block);
        if (slot != BlockIndex.MISSING || zeroRuns.isEmpty()) {
            return slot;
        }
        return zeroRuns.covers(block) ? BlockIndex.ZERO : BlockIndex.MISSING;
    }

    /** The slot the index holds for {@code block} (data or zero), or MISSING; runs not asked. */
    int indexed(long block) {
        return index.get(block);
    }

    /** The end of the zeroed run covering {@code block}, or -1. */
    long zeroRunEnd(long block) {
        return zeroRuns.isEmpty() ? -1 : zeroRuns.endOfRunAt(block);
    }

    /** The first block at or after {@code block} the index holds, or {@link Long#MAX_VALUE}. */
    long nextIndexed(long block) {
        long[] sorted = index.sortedBlocks();
        int i = Arrays.binarySearch(sorted, block);
        if (i < 0) {
            i = -i - 1;
        }
        return i < sorted.length ? sorted[i] : Long.MAX_VALUE;
    }

    /**
     * The first block at or after {@code block} this delta holds, indexed or in a run, or
     * {@link Long#MAX_VALUE}.
     */
    long nextHeld(long block) {
        long indexed = nextIndexed(block);
        return zeroRuns.isEmpty() ? indexed : Math.min(indexed, zeroRuns.nextCovered(block));
    }

    /** What {@link #nextIndexed} costs before its first answer: see {@link BlockIndex#sortCost}. */
    long sortCost() {
        return index.sortCost();
    }

    boolean isEmpty() {
        return index.size() == 0 && zeroRuns.isEmpty();
    }

    /** Blocks the index holds (data or zero), not counting zeroed runs. */
    int indexed() {
        return index.size();
    }

    void read(int slot, int within, ByteBuffer dst) throws IOException {
        store.read(slot, within, dst);
    }

    /** Stores a whole block. */
    void put(long block, ByteBuffer src) throws IOException {
        int slot = index.get(block);
        if (slot < 0) {
            if (store == null) {
                store = storage.create();
            }
            slot = store.allocate();
        }
        store.write(slot, src);
        index.put(block, slot);
    }

    /** Records that a block reads as zeroes. */
    void putZero(long block) {
        index.put(block, BlockIndex.ZERO);
    }

    /**
     * Whether a zero of {@code blocks} whole blocks had better be one run than an index entry a
     * block: a run costs one pass over the index, so it pays once the blocks are a sixteenth of
     * the index's capacity (and always for the terabytes one request may zero with NBD's
     * extended headers).
     */
    boolean zeroesAsRun(long blocks) {
        return blocks >= Math.max(16, index.capacity() / 16);
    }

    /**
     * Records that the blocks {@code [first, end)} read as zeroes, as one run: what the index
     * holds among them reads as zeroes too (one pass over the index, whatever the run's length).
     */
    void putZeroRun(long first, long end) {
        index.zeroWithin(first, end);
        zeroRuns.add(first, end);
    }

    /** The blocks the index holds (each once), then not the runs: see {@link #forEachZeroRun}. */
    void forEachBlock(LongConsumer block) {
        index.forEach(block);
    }

    /** The zeroed runs, disjoint; a block the index holds inside one is as the index says. */
    void forEachZeroRun(BlockRuns.RunConsumer run) {
        zeroRuns.forEach(run);
    }

    Delta retain() {
        references.incrementAndGet();
        return this;
    }

    void release() throws IOException {
        if (references.decrementAndGet() == 0 && store != null) {
            store.close();
        }
    }
}
