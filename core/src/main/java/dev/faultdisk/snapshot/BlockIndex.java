package dev.faultdisk.snapshot;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * Which 4 KiB blocks a delta holds and in which slot: an open-addressing map from block number to
 * slot, without boxing (a delta of 256 MiB of random 4 KiB writes has 65,536 entries). Beside it,
 * the blocks in ascending order for block status to skip from one held block to the next: sorted
 * when asked for, the blocks added since merged in then (8 bytes a block held). Not thread-safe
 * but for {@link #sortedBlocks} and {@link #sortCost}: the volume's lock guards it, and block
 * status, under a read lock, may ask for the order from two threads at once.
 */
final class BlockIndex {
    /** Returned by {@link #get} for a block the delta does not hold. */
    static final int MISSING = -1;
    /** The slot of a block that reads as zeroes and needs no storage (trimmed or zeroed). */
    static final int ZERO = -2;

    private static final long EMPTY = -1;

    private long[] keys;
    private int[] slots;
    private int size;
    /** Every block held, ascending, as of the last {@link #sortedBlocks}. */
    private long[] sorted;
    /** Blocks added since, in the order they came: the first {@link #addedCount} of the array. */
    private long[] added;

    private int addedCount;

    BlockIndex() {
        clear();
    }

    /**
     * An index sized for {@code expected} blocks, so that filling it never grows it: filled in
     * another index's slot order, a growing one probes in ever longer runs (1.3 million blocks
     * took 8 s, against 0.3 s sized).
     */
    BlockIndex(long expected) {
        int capacity = Integer.highestOneBit((int) Math.min(1 << 30, Math.max(16, expected * 4 / 3 + 1)) - 1) << 1;
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        slots = new int[capacity];
        sorted = new long[0];
        added = new long[16];
    }

    int size() {
        return size;
    }

    /** Slots in the table: what a pass over it costs. */
    int capacity() {
        return keys.length;
    }

    int get(long block) {
        int mask = keys.length - 1;
        for (int i = spread(block) & mask; ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == block) {
                return slots[i];
            }
            if (k == EMPTY) {
                return MISSING;
            }
        }
    }

    /** Maps {@code block} to {@code slot}, replacing any earlier slot; returns the earlier one or MISSING. */
    int put(long block, int slot) {
        if ((size + 1) * 4L > keys.length * 3L) {
            grow();
        }
        int old = insert(block, slot);
        if (old == MISSING) {
            if (addedCount == added.length) {
                added = Arrays.copyOf(added, addedCount * 2);
            }
            added[addedCount++] = block;
        }
        return old;
    }

    /**
     * The blocks held, ascending. The array is shared: callers only read it, and only until the
     * index changes.
     */
    synchronized long[] sortedBlocks() {
        if (addedCount > 0) {
            long[] fresh = Arrays.copyOf(added, addedCount);
            Arrays.sort(fresh);
            long[] merged = new long[sorted.length + fresh.length];
            int i = 0;
            int j = 0;
            int k = 0;
            while (i < sorted.length && j < fresh.length) {
                merged[k++] = sorted[i] < fresh[j] ? sorted[i++] : fresh[j++];
            }
            System.arraycopy(sorted, i, merged, k, sorted.length - i);
            System.arraycopy(fresh, j, merged, k + sorted.length - i, fresh.length - j);
            sorted = merged;
            added = new long[16];
            addedCount = 0;
        }
        return sorted;
    }

    /**
     * What {@link #sortedBlocks} costs now, in steps about as long as a lookup: nothing when no
     * block came since it last ran, else a merge of everything and a sort of what came.
     */
    synchronized long sortCost() {
        return addedCount == 0 ? 0 : sorted.length + 16L * addedCount;
    }

    private int insert(long block, int slot) {
        int mask = keys.length - 1;
        for (int i = spread(block) & mask; ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == block) {
                int old = slots[i];
                slots[i] = slot;
                return old;
            }
            if (k == EMPTY) {
                keys[i] = block;
                slots[i] = slot;
                size++;
                return MISSING;
            }
        }
    }

    /** Makes every block the index holds in {@code [first, end)} read as zeroes: one pass over the index. */
    void zeroWithin(long first, long end) {
        for (int i = 0; i < keys.length; i++) {
            long k = keys[i];
            if (k != EMPTY && k >= first && k < end) {
                slots[i] = ZERO;
            }
        }
    }

    void forEach(LongConsumer block) {
        for (long k : keys) {
            if (k != EMPTY) {
                block.accept(k);
            }
        }
    }

    void clear() {
        keys = new long[16];
        Arrays.fill(keys, EMPTY);
        slots = new int[16];
        size = 0;
        sorted = new long[0];
        added = new long[16];
        addedCount = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldSlots = slots;
        keys = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        slots = new int[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                insert(oldKeys[i], oldSlots[i]);
            }
        }
    }

    private static int spread(long block) {
        long h = block * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
