package dev.faultdisk.device;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A memory device's pages by index ({@link MemoryDevice}): a flat top table (one slot per 256 MiB)
 * and four levels of 16-way nodes below it, the last (leaves) holding page handles into its
 * {@link PageSlabs}. Nodes are made on first write and never removed; a leaf's slot holds no page,
 * a mark for zeroes kept allocated, or a page. One tree and its pages live and go together: a
 * closed device starts a new one, and an access still under way in the old finishes there.
 */
final class PageTree {
    static final int FAN_SHIFT = 4;
    static final int FAN = 1 << FAN_SHIFT;
    private static final int LEVELS = 4;
    /** Pages under one slot of the top table. */
    static final int TOP_SHIFT = FAN_SHIFT * LEVELS;
    /** A leaf's slot: no page. */
    static final int MISSING = 0;
    /** A leaf's slot zeroed with NO_HOLE: allocated, reads as zeroes, no page. Else a page handle + 2. */
    static final int KEPT_ZEROES = 1;

    private static final int HANDLE_BASE = 2;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle LEAF = MethodHandles.arrayElementVarHandle(int[].class);

    final PageSlabs pages;
    private final Object[] top;
    private final AtomicLong allocatedPages = new AtomicLong();
    private final AtomicLong nodes = new AtomicLong();

    PageTree(long pageCount, PageSlabs pages) {
        this.pages = pages;
        this.top = new Object[(int) ((pageCount + (1L << TOP_SHIFT) - 1) >>> TOP_SHIFT)];
    }

    /** Pages holding data (those zeroed with NO_HOLE hold none). */
    long allocatedPages() {
        return allocatedPages.get();
    }

    /** Bytes the index takes beyond the data: the top table and the nodes (object headers included). */
    long indexBytes() {
        return 16L + 4L * top.length + nodes.get() * (16L + 4L * FAN);
    }

    /** The page at {@code index}, pinned, or -1 if it holds none. */
    int pinned(long index) {
        int[] leaf = leaf(index);
        return leaf == null ? -1 : pinned(leaf, (int) index & (FAN - 1));
    }

    /** The leaf holding {@code index}'s slot, or null if none was made. */
    private int[] leaf(long index) {
        Object node = SLOT.getAcquire(top, (int) (index >>> TOP_SHIFT));
        for (int shift = TOP_SHIFT - FAN_SHIFT; node != null && shift > 0; shift -= FAN_SHIFT) {
            node = SLOT.getAcquire((Object[]) node, (int) (index >>> shift) & (FAN - 1));
        }
        return (int[]) node;
    }

    /**
     * The page in {@code leaf}'s {@code slot}, pinned, or -1 if it holds none. Looked at again after
     * the pin: a page freed and given to another block in between is let go, and the slot read anew.
     */
    private int pinned(int[] leaf, int slot) {
        while (true) {
            int held = (int) LEAF.getVolatile(leaf, slot);
            if (held < HANDLE_BASE) {
                return -1;
            }
            int page = held - HANDLE_BASE;
            if (pages.pin(page)) {
                if ((int) LEAF.getVolatile(leaf, slot) == held) {
                    return page;
                }
                pages.unpin(page);
            }
        }
    }

    /**
     * Pages from {@code index} on (to the end of the smallest missing subtree) that hold no data,
     * or 0 if the page at {@code index} is allocated, -1 if it is allocated as zeroes (NO_HOLE).
     */
    long missingRun(long index) {
        Object node = SLOT.getAcquire(top, (int) (index >>> TOP_SHIFT));
        int shift = TOP_SHIFT;
        while (node != null && shift > FAN_SHIFT) {
            shift -= FAN_SHIFT;
            node = SLOT.getAcquire((Object[]) node, (int) (index >>> shift) & (FAN - 1));
        }
        if (node != null) {
            int held = (int) LEAF.getAcquire((int[]) node, (int) index & (FAN - 1));
            return held == MISSING ? 1 : held == KEPT_ZEROES ? -1 : 0;
        }
        long span = 1L << shift;
        return span - (index & (span - 1));
    }

    /** The page at {@code index}, pinned, made (zeroes) if it has none. */
    int pageForWrite(long index) throws DeviceException {
        int[] leaf = leafForWrite(index);
        int slot = (int) index & (FAN - 1);
        while (true) {
            int page = pinned(leaf, slot);
            if (page >= 0) {
                return page;
            }
            int held = (int) LEAF.getVolatile(leaf, slot);
            if (held >= HANDLE_BASE) {
                continue; // a page came meanwhile
            }
            int fresh = pages.allocate();
            if (LEAF.compareAndSet(leaf, slot, held, fresh + HANDLE_BASE)) {
                allocatedPages.incrementAndGet();
                return fresh;
            }
            pages.retire(fresh); // never seen by anyone: back to the free list with the pin
            pages.unpin(fresh);
        }
    }

    /**
     * Puts {@code page} (filled, not yet seen by anyone) in {@code index}'s slot; returns the page
     * it held there, which the caller retires, or -1 if it held none.
     */
    int swap(long index, int page) {
        int old = (int) LEAF.getAndSet(leafForWrite(index), (int) index & (FAN - 1), page + HANDLE_BASE);
        if (old >= HANDLE_BASE) {
            return old - HANDLE_BASE;
        }
        allocatedPages.incrementAndGet();
        return -1;
    }

    /** Frees the page at {@code index}: no page there after. */
    void free(long index) {
        replace(leaf(index), index, MISSING);
    }

    /** Frees the page at {@code index} and marks it zeroes kept allocated. */
    void keepZeroes(long index) {
        replace(leafForWrite(index), index, KEPT_ZEROES);
    }

    /** Puts {@code value} in {@code index}'s slot of {@code leaf} (if there is one), freeing the page it held. */
    private void replace(int[] leaf, long index, int value) {
        if (leaf == null) {
            return;
        }
        int old = (int) LEAF.getAndSet(leaf, (int) index & (FAN - 1), value);
        if (old >= HANDLE_BASE) {
            allocatedPages.decrementAndGet();
            pages.retire(old - HANDLE_BASE);
        }
    }

    /** The leaf holding {@code index}'s slot, created with the nodes above it if missing. */
    private int[] leafForWrite(long index) {
        Object[] node = (Object[]) child(top, (int) (index >>> TOP_SHIFT), false);
        for (int shift = TOP_SHIFT - FAN_SHIFT; shift > FAN_SHIFT; shift -= FAN_SHIFT) {
            node = (Object[]) child(node, (int) (index >>> shift) & (FAN - 1), false);
        }
        return (int[]) child(node, (int) (index >>> FAN_SHIFT) & (FAN - 1), true);
    }

    /** The child in {@code slot} of {@code parent}, created (a node, or a leaf) if missing. */
    private Object child(Object[] parent, int slot, boolean leaf) {
        Object c = SLOT.getAcquire(parent, slot);
        if (c != null) {
            return c;
        }
        Object fresh = leaf ? new int[FAN] : new Object[FAN];
        Object witness = SLOT.compareAndExchange(parent, slot, (Object) null, fresh);
        if (witness != null) {
            return witness;
        }
        nodes.incrementAndGet();
        return fresh;
    }
}
