package dev.faultdisk.snapshot;

import dev.faultdisk.device.CoalescingExtentSink;
import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.util.List;

/**
 * Block status through a chain of deltas over a medium: blocks a delta holds are data or zeroes,
 * the rest is as the medium says. Two walks give the same extents. Block by block costs a lookup
 * in each delta for every block of the range (4 GiB at most a call), which is cheap for a short
 * range and was seconds a call for a map of terabytes. Held block to held block costs a few
 * binary searches for every stretch of blocks of one kind, that is what the deltas hold, whatever
 * the range; it needs each delta's blocks in order, which a delta keeps until it takes new blocks
 * and then merges them in. A call takes the walk that costs less.
 */
final class ChainExtents {
    static final int BLOCK = SnapshotVolume.BLOCK;

    /**
     * The most one call looks at: bytes block by block (4 GiB, the most a compact NBD request asks
     * for), stretches held block to held block. A walk that ends early is fine: the client asks
     * again from where the reply ends.
     */
    static final long MAX_WALK = 1L << 32;

    static final long MAX_STRETCHES = MAX_WALK / BLOCK;

    /** An array, not a list: block by block loops over it for every block. */
    private final Delta[] layers;

    private final SnapshotVolume.Medium medium;

    /** {@code layers}: the deltas, newest first (an empty one may be left out). */
    ChainExtents(List<Delta> layers, SnapshotVolume.Medium medium) {
        this.layers = layers.toArray(new Delta[0]);
        this.medium = medium;
    }

    /** Extents from {@code offset}, at most {@code length} bytes, by the cheaper walk. */
    void extents(long offset, long length, ExtentSink sink) throws IOException {
        long end = end(offset, length);
        long byBlock = blocks(offset, Math.min(end, offset + MAX_WALK)) * Math.max(1, layers.length);
        long sorting = 0;
        for (Delta d : layers) {
            sorting += d.sortCost();
        }
        if (byBlock <= sorting) {
            blockByBlock(offset, length, sink);
        } else {
            heldToHeld(offset, length, sink);
        }
    }

    /** The walk whose cost follows the range: a lookup in every layer for every block. */
    void blockByBlock(long offset, long length, ExtentSink sink) throws IOException {
        long end = end(offset, Math.min(length, MAX_WALK));
        CoalescingExtentSink joined = new CoalescingExtentSink(sink);
        long pos = offset;
        while (pos < end) {
            long b = pos / BLOCK;
            long next = Math.min(end, (b + 1) * BLOCK);
            int slot = lookup(b);
            if (slot == BlockIndex.MISSING) {
                while (next < end && lookup(next / BLOCK) == BlockIndex.MISSING) {
                    next = Math.min(end, next + BLOCK);
                }
                if (!mediumExtents(pos, next - pos, joined)) {
                    return;
                }
            } else if (!joined.accept(next - pos, flags(slot))) {
                return;
            }
            pos = next;
        }
        joined.finish();
    }

    /**
     * The walk whose cost follows what the deltas hold: from each position to the next block where
     * the answer may change, found in each layer's sorted blocks and zeroed runs.
     */
    void heldToHeld(long offset, long length, ExtentSink sink) throws IOException {
        long end = end(offset, length);
        long endBlock = blocks(0, end);
        CoalescingExtentSink joined = new CoalescingExtentSink(sink);
        long pos = offset;
        for (long stretches = 0; pos < end && stretches < MAX_STRETCHES; stretches++) {
            long b = pos / BLOCK;
            long stop = 0; // the block at which this stretch ends
            int flags = -1;
            for (int k = 0; k < layers.length; k++) {
                Delta d = layers[k];
                int slot = d.indexed(b);
                if (slot != BlockIndex.MISSING) {
                    stop = b + 1;
                    flags = flags(slot);
                    break;
                }
                long runEnd = d.zeroRunEnd(b);
                if (runEnd > b) {
                    // Zeroes to the run's end, unless this layer or a newer one holds a block
                    // of its own before it (an older layer's blocks are under the run).
                    stop = Math.min(runEnd, nextIndexed(b + 1, k));
                    flags = ExtentSink.ZERO;
                    break;
                }
            }
            if (flags == -1) {
                stop = nextHeld(b + 1); // no layer holds b: the medium's, up to the next held block
            }
            long next = stop >= endBlock ? end : stop * BLOCK;
            boolean go = flags == -1 ? mediumExtents(pos, next - pos, joined) : joined.accept(next - pos, flags);
            if (!go) {
                return;
            }
            pos = next;
        }
        joined.finish();
    }

    /** The first block at or after {@code block} that the layers up to {@code last} index. */
    private long nextIndexed(long block, int last) {
        long next = Long.MAX_VALUE;
        for (int k = 0; k <= last; k++) {
            next = Math.min(next, layers[k].nextIndexed(block));
        }
        return next;
    }

    private long nextHeld(long block) {
        long next = Long.MAX_VALUE;
        for (Delta d : layers) {
            next = Math.min(next, d.nextHeld(block));
        }
        return next;
    }

    private int lookup(long block) {
        for (Delta d : layers) {
            int slot = d.lookup(block);
            if (slot != BlockIndex.MISSING) {
                return slot;
            }
        }
        return BlockIndex.MISSING;
    }

    private static int flags(int slot) {
        return slot == BlockIndex.ZERO ? ExtentSink.ZERO : 0;
    }

    /** Where {@code length} bytes from {@code offset} end: at the medium's end if past it. */
    private long end(long offset, long length) {
        return length >= medium.size() - offset ? medium.size() : offset + length;
    }

    /** Blocks that {@code [from, to)} touches. */
    private static long blocks(long from, long to) {
        return to <= from ? 0 : (to - 1) / BLOCK - from / BLOCK + 1;
    }

    private boolean mediumExtents(long offset, long length, ExtentSink sink) throws IOException {
        long[] covered = {0};
        boolean[] go = {true};
        while (go[0] && covered[0] < length) {
            long before = covered[0];
            medium.extents(offset + covered[0], length - covered[0], (len, flags) -> {
                long n = Math.min(len, length - covered[0]);
                covered[0] += n;
                go[0] = sink.accept(n, flags);
                return go[0] && covered[0] < length;
            });
            if (covered[0] == before) {
                go[0] = sink.accept(length - covered[0], 0); // the medium said nothing more: call it data
                covered[0] = length;
            }
        }
        return go[0];
    }
}
