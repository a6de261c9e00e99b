package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.util.Arrays;

/** The extents of one BLOCK_STATUS reply, gathered from the device stack within NBD's limits. */
final class Extents {
    /** The most extents one reply carries; the client asks again for the rest. */
    static final int MAX_EXTENTS = 1 << 16;
    /** Compact extent lengths must fit in 32 bits; keep them 4 KiB aligned when split. */
    static final long MAX_EXTENT = 0xFFFF_F000L;
    /** Extended headers' extents have 64 bits: no cut (an export is smaller than this). */
    static final long MAX_EXTENT_EXT = Long.MAX_VALUE;

    long[] lengths = new long[16];
    int[] flags = new int[16];
    int count;
    private long covered;

    private Extents() {}

    /**
     * The extents the stack reports for {@code r}, cut to its length: only the first with REQ_ONE,
     * and at least one (nothing reported means "data", which is always safe to say); each at most
     * {@code maxExtent} ({@link #MAX_EXTENT} or {@link #MAX_EXTENT_EXT}).
     */
    static Extents of(BlockDevice device, BlockRequest r, long maxExtent) throws IOException {
        boolean one = r.has(BlockRequest.Flag.REQ_ONE);
        long length = r.length();
        Extents extents = new Extents();
        device.extents(r, (len, flags) -> {
            long take = Math.min(Math.min(len, length - extents.covered), maxExtent);
            if (take <= 0) {
                return false;
            }
            extents.add(take, flags & (ExtentSink.HOLE | ExtentSink.ZERO));
            return !one && take == len && extents.covered < length && extents.count < MAX_EXTENTS;
        });
        if (extents.count == 0) {
            extents.add(Math.min(length, maxExtent), 0);
        }
        return extents;
    }

    private void add(long length, int flag) {
        if (count == lengths.length) {
            lengths = Arrays.copyOf(lengths, count * 2);
            flags = Arrays.copyOf(flags, count * 2);
        }
        lengths[count] = length;
        flags[count] = flag;
        count++;
        covered += length;
    }
}
