package dev.faultdisk.device;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A sparse in-memory disk. Memory grows with the data written, not with the size: storage is a
 * radix tree of 4 KiB pages allocated on first write, so a 1 PiB device starts at once and 1 GiB
 * written at random anywhere in 16 TiB costs about 1 GiB. The tree has a flat top table (one slot
 * per 256 MiB) and four levels of 16-way nodes below it: small nodes keep the index near 10% of
 * the data even when every page written lands in a subtree of its own. Trim and write-zeroes free
 * whole pages; write-zeroes that must keep them ({@code NO_HOLE}) leave one shared page of zeroes
 * in each written page's slot instead, allocated to block status and costing no memory, and leave
 * pages never written missing (else a 28-byte request could make the server fill 4 GiB); a read of
 * a missing page returns zeroes, and block status skips missing subtrees without visiting their
 * pages.
 */
public final class MemoryDevice implements BlockDevice {
    static final int CHUNK_SHIFT = 12;
    /** The allocation unit: a page. */
    static final int CHUNK = 1 << CHUNK_SHIFT;
    /** Index bits per level below the top table. */
    private static final int FAN_SHIFT = 4;

    private static final int FAN = 1 << FAN_SHIFT;
    private static final int LEVELS = 4;
    /** Pages under one slot of the top table. */
    private static final int TOP_SHIFT = FAN_SHIFT * LEVELS;

    private static final byte[] ZEROES = new byte[CHUNK];
    /**
     * The page of a slot zeroed with NO_HOLE: allocated, reads as zeroes, shared by every such slot
     * and never written (a write puts a page of its own in the slot first).
     */
    private static final byte[] KEPT_ZEROES = new byte[CHUNK];

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    /** Largest size: its top table (one slot per 256 MiB) is then 2^22 slots. */
    public static final long MAX_SIZE = 1L << 50;

    private final long size;
    private final Object[] top;
    private final AtomicLong allocatedPages = new AtomicLong();
    private final AtomicLong nodes = new AtomicLong();
    /** Writes, trims and zeroings ({@link #readVersion}). */
    private final ChangeCount changes = new ChangeCount();

    public MemoryDevice(long size) {
        if (size < 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException(
                    "memory device size out of range: " + size + " bytes (at most " + Sizes.format(MAX_SIZE) + ")");
        }
        this.size = size;
        long pages = (size + CHUNK - 1) >>> CHUNK_SHIFT;
        this.top = new Object[(int) ((pages + (1L << TOP_SHIFT) - 1) >>> TOP_SHIFT)];
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    /** Bytes of memory held for data (whole pages; those zeroed with NO_HOLE share one). */
    public long allocatedBytes() {
        return allocatedPages.get() * CHUNK;
    }

    /** Bytes the tree's index takes beyond the data: the top table and the nodes (object headers included). */
    public long indexBytes() {
        return 16L + 4L * top.length + nodes.get() * (16L + 4L * FAN);
    }

    @Override
    public void read(BlockRequest r, ByteBuffer dst) {
        long pos = r.offset();
        while (dst.hasRemaining()) {
            int within = (int) (pos & (CHUNK - 1));
            int n = Math.min(dst.remaining(), CHUNK - within);
            byte[] page = page(pos >>> CHUNK_SHIFT);
            dst.put(page == null ? ZEROES : page, within, n);
            pos += n;
        }
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) {
        changes.begin();
        try {
            long pos = r.offset();
            while (src.hasRemaining()) {
                int within = (int) (pos & (CHUNK - 1));
                int n = Math.min(src.remaining(), CHUNK - within);
                src.get(pageForWrite(pos >>> CHUNK_SHIFT), within, n);
                pos += n;
            }
        } finally {
            changes.end();
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
        changes.begin();
        try {
            zeroRange(offset, length, keepAllocated);
        } finally {
            changes.end();
        }
    }

    @Override
    public long readVersion(BlockRequest r) {
        return changes.get();
    }

    private void zeroRange(long offset, long length, boolean keepAllocated) {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            int within = (int) (pos & (CHUNK - 1));
            int n = (int) Math.min(end - pos, CHUNK - within);
            if (n == CHUNK) {
                long missing = missingRun(index);
                if (missing > 0) {
                    // Nothing to free, and nothing to keep: NO_HOLE creates no hole, and a page never
                    // written is one already (allocating it would let a request cost memory).
                    pos = Math.min(end, (index + missing) << CHUNK_SHIFT);
                    continue;
                }
                if (keepAllocated) {
                    keepZeroes(index);
                } else {
                    free(index);
                }
            } else {
                byte[] page = page(index);
                if (page != null && !keptZeroes(page)) {
                    java.util.Arrays.fill(page, within, within + n, (byte) 0);
                }
            }
            pos += n;
        }
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) {
        long end = Math.min(size, r.offset() + r.length());
        long pos = r.offset();
        CoalescingExtentSink joined = new CoalescingExtentSink(sink); // pages of a kind leave as one extent
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            long missing = missingRun(index);
            long next = Math.min(end, (index + Math.max(1, missing)) << CHUNK_SHIFT);
            int flags = missing > 0 ? ExtentSink.HOLE | ExtentSink.ZERO : missing < 0 ? ExtentSink.ZERO : 0;
            if (!joined.accept(next - pos, flags)) {
                return;
            }
            pos = next;
        }
        joined.finish();
    }

    @Override
    public String describe() {
        return "memory, " + Sizes.format(size);
    }

    @Override
    public void close() {
        changes.bump(); // its data goes: a read done ahead of its delay is done again
        java.util.Arrays.fill(top, null);
        allocatedPages.set(0);
        nodes.set(0);
    }

    /** The page at {@code index}, or null if none was written there. */
    private byte[] page(long index) {
        Object node = SLOT.getAcquire(top, (int) (index >>> TOP_SHIFT));
        for (int shift = TOP_SHIFT - FAN_SHIFT; node != null && shift >= 0; shift -= FAN_SHIFT) {
            node = SLOT.getAcquire((Object[]) node, (int) (index >>> shift) & (FAN - 1));
        }
        return (byte[]) node;
    }

    /**
     * Pages from {@code index} on (to the end of the smallest missing subtree) that hold no data,
     * or 0 if the page at {@code index} is allocated, -1 if it is allocated as zeroes (NO_HOLE).
     */
    private long missingRun(long index) {
        Object node = SLOT.getAcquire(top, (int) (index >>> TOP_SHIFT));
        int shift = TOP_SHIFT;
        while (node != null && shift > 0) {
            shift -= FAN_SHIFT;
            node = SLOT.getAcquire((Object[]) node, (int) (index >>> shift) & (FAN - 1));
        }
        if (node != null) {
            return keptZeroes(node) ? -1 : 0;
        }
        long span = 1L << shift;
        return span - (index & (span - 1));
    }

    private byte[] pageForWrite(long index) {
        Object[] leaf = leafForWrite(index);
        int slot = (int) index & (FAN - 1);
        while (true) {
            Object page = child(leaf, slot, true);
            if (!keptZeroes(page)) {
                return (byte[]) page;
            }
            byte[] fresh = new byte[CHUNK];
            if (SLOT.compareAndSet(leaf, slot, (Object) KEPT_ZEROES, (Object) fresh)) {
                allocatedPages.incrementAndGet();
                return fresh;
            }
        }
    }

    /** Whether {@code page} is the shared page of zeroes: the very array, not one equal to it. */
    @SuppressWarnings("ReferenceEquality")
    private static boolean keptZeroes(Object page) {
        return page == KEPT_ZEROES;
    }

    /** Puts the shared page of zeroes in {@code index}'s slot, freeing the page it held. */
    private void keepZeroes(long index) {
        Object old = SLOT.getAndSet(leafForWrite(index), (int) index & (FAN - 1), (Object) KEPT_ZEROES);
        if (old != null && !keptZeroes(old)) {
            allocatedPages.decrementAndGet();
        }
    }

    /** The last level's node holding {@code index}'s slot, created with those above it if missing. */
    private Object[] leafForWrite(long index) {
        Object[] node = (Object[]) child(top, (int) (index >>> TOP_SHIFT), false);
        for (int shift = TOP_SHIFT - FAN_SHIFT; shift > 0; shift -= FAN_SHIFT) {
            node = (Object[]) child(node, (int) (index >>> shift) & (FAN - 1), false);
        }
        return node;
    }

    /** The child in {@code slot} of {@code parent}, created (a node, or a page) if missing. */
    private Object child(Object[] parent, int slot, boolean page) {
        Object c = SLOT.getAcquire(parent, slot);
        if (c != null) {
            return c;
        }
        Object fresh = page ? new byte[CHUNK] : new Object[FAN];
        Object witness = SLOT.compareAndExchange(parent, slot, (Object) null, fresh);
        if (witness != null) {
            return witness;
        }
        (page ? allocatedPages : nodes).incrementAndGet();
        return fresh;
    }

    private void free(long index) {
        Object node = SLOT.getAcquire(top, (int) (index >>> TOP_SHIFT));
        for (int shift = TOP_SHIFT - FAN_SHIFT; node != null && shift > 0; shift -= FAN_SHIFT) {
            node = SLOT.getAcquire((Object[]) node, (int) (index >>> shift) & (FAN - 1));
        }
        if (node != null) {
            Object old = SLOT.getAndSet((Object[]) node, (int) index & (FAN - 1), (Object) null);
            if (old != null && !keptZeroes(old)) {
                allocatedPages.decrementAndGet();
            }
        }
    }
}
