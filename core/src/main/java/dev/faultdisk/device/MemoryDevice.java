package dev.faultdisk.device;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A sparse in-memory disk. Memory grows with the data written, not with the size: storage is a
 * two-level table of 64 KiB chunks allocated on first write, so a 1 TiB device starts at once.
 * Trim and write-zeroes free whole chunks; a read of a missing chunk returns zeroes.
 */
public final class MemoryDevice implements BlockDevice {
    static final int CHUNK_SHIFT = 16;
    static final int CHUNK = 1 << CHUNK_SHIFT;
    private static final int DIR_SHIFT = 10;
    private static final int DIR_SIZE = 1 << DIR_SHIFT;
    private static final long DIR_SPAN = (long) CHUNK << DIR_SHIFT;
    private static final byte[] ZEROES = new byte[CHUNK];
    /** Largest size: its top-level table (one slot per 64 MiB) is then at most 2^24 slots. */
    public static final long MAX_SIZE = 1L << 50;

    private final long size;
    private final AtomicReferenceArray<AtomicReferenceArray<byte[]>> dirs;
    private final AtomicLong allocatedChunks = new AtomicLong();

    public MemoryDevice(long size) {
        if (size < 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException(
                    "memory device size out of range: " + size + " bytes (at most " + Sizes.format(MAX_SIZE) + ")");
        }
        this.size = size;
        this.dirs = new AtomicReferenceArray<>((int) ((size + DIR_SPAN - 1) / DIR_SPAN));
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    /** Bytes of memory held for data (whole chunks). */
    public long allocatedBytes() {
        return allocatedChunks.get() * CHUNK;
    }

    @Override
    public void read(BlockRequest r, ByteBuffer dst) {
        long pos = r.offset();
        while (dst.hasRemaining()) {
            int within = (int) (pos & (CHUNK - 1));
            int n = Math.min(dst.remaining(), CHUNK - within);
            byte[] chunk = chunk(pos >>> CHUNK_SHIFT);
            if (chunk == null) {
                dst.put(ZEROES, 0, n);
            } else {
                dst.put(chunk, within, n);
            }
            pos += n;
        }
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) {
        long pos = r.offset();
        while (src.hasRemaining()) {
            int within = (int) (pos & (CHUNK - 1));
            int n = Math.min(src.remaining(), CHUNK - within);
            src.get(chunkForWrite(pos >>> CHUNK_SHIFT), within, n);
            pos += n;
        }
    }

    @Override
    public void flush(BlockRequest r) {
        // Memory is as durable as this device gets.
    }

    @Override
    public void trim(BlockRequest r) {
        zero(r.offset(), r.length(), false);
    }

    @Override
    public void writeZeroes(BlockRequest r) {
        zero(r.offset(), r.length(), r.has(BlockRequest.Flag.NO_HOLE));
    }

    private void zero(long offset, long length, boolean keepAllocated) {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            int within = (int) (pos & (CHUNK - 1));
            int n = (int) Math.min(end - pos, CHUNK - within);
            if (n == CHUNK && !keepAllocated) {
                free(index);
            } else {
                byte[] chunk = keepAllocated ? chunkForWrite(index) : chunk(index);
                if (chunk != null) {
                    java.util.Arrays.fill(chunk, within, within + n, (byte) 0);
                }
            }
            pos += n;
        }
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) {
        long end = Math.min(size, r.offset() + r.length());
        long pos = r.offset();
        int runFlags = -1;
        long runLength = 0;
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            long next;
            int flags;
            if (dirs.get((int) (index >>> DIR_SHIFT)) == null) {
                next = Math.min(end, ((index >>> DIR_SHIFT) + 1) * DIR_SPAN);
                flags = ExtentSink.HOLE | ExtentSink.ZERO;
            } else {
                next = Math.min(end, (index + 1) << CHUNK_SHIFT);
                flags = chunk(index) == null ? ExtentSink.HOLE | ExtentSink.ZERO : 0;
            }
            if (flags != runFlags && runLength > 0) {
                if (!sink.accept(runLength, runFlags)) {
                    return;
                }
                runLength = 0;
            }
            runFlags = flags;
            runLength += next - pos;
            pos = next;
        }
        if (runLength > 0) {
            sink.accept(runLength, runFlags);
        }
    }

    @Override
    public String describe() {
        return "memory, " + Sizes.format(size);
    }

    @Override
    public void close() {
        for (int i = 0; i < dirs.length(); i++) {
            dirs.set(i, null);
        }
        allocatedChunks.set(0);
    }

    private byte[] chunk(long index) {
        AtomicReferenceArray<byte[]> dir = dirs.get((int) (index >>> DIR_SHIFT));
        return dir == null ? null : dir.get((int) (index & (DIR_SIZE - 1)));
    }

    private byte[] chunkForWrite(long index) {
        int d = (int) (index >>> DIR_SHIFT);
        AtomicReferenceArray<byte[]> dir = dirs.get(d);
        if (dir == null) {
            dirs.compareAndSet(d, null, new AtomicReferenceArray<>(DIR_SIZE));
            dir = dirs.get(d);
        }
        int i = (int) (index & (DIR_SIZE - 1));
        byte[] chunk = dir.get(i);
        if (chunk == null) {
            byte[] fresh = new byte[CHUNK];
            if (dir.compareAndSet(i, null, fresh)) {
                allocatedChunks.incrementAndGet();
                return fresh;
            }
            chunk = dir.get(i);
        }
        return chunk;
    }

    private void free(long index) {
        AtomicReferenceArray<byte[]> dir = dirs.get((int) (index >>> DIR_SHIFT));
        if (dir != null && dir.getAndSet((int) (index & (DIR_SIZE - 1)), null) != null) {
            allocatedChunks.decrementAndGet();
        }
    }
}
