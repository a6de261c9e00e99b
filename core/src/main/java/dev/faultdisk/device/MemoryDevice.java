package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * A sparse in-memory disk. Memory grows with the data written, not with the size: storage is a
 * radix tree of 4 KiB pages allocated on first write, so a 1 PiB device starts at once and 1 GiB
 * written at random anywhere in 16 TiB costs about 1 GiB. The tree has a flat top table (one slot
 * per 256 MiB) and four levels of 16-way nodes below it, the last holding page handles: small nodes
 * keep the index under 8% of the data even when every page written lands in a subtree of its own.
 * Trim and write-zeroes free whole pages; write-zeroes that must keep them ({@code NO_HOLE}) leave
 * a mark in each written page's slot instead, allocated to block status and costing no memory,
 * and leave pages never written missing (else a 28-byte request could make the server fill 4
 * GiB); a read of a missing page returns zeroes, and block status skips missing subtrees without
 * visiting their pages.
 *
 * <p>Pages live outside the heap ({@link PageSlabs}), so that a frontend may send a large read
 * straight from them ({@link PageSource}), where a heap page would be copied once more on its way
 * to the socket. Every access to a page's bytes pins it, so a page freed by a trim is reused only
 * once nothing reads or writes it. When no more memory can be had (the limit all memory exports
 * share, {@link SlabMemory}: by default the machine's memory), a write that needs a new page fails
 * with ENOSPC and the server goes on.
 */
public final class MemoryDevice implements BlockDevice, PageSource {
    static final int CHUNK_SHIFT = PageSlabs.PAGE_SHIFT;
    /** The allocation unit: a page. */
    static final int CHUNK = 1 << CHUNK_SHIFT;
    /** Read in place of a page with no data; never written. */
    private static final ByteBuffer ZEROES = PageSlabs.ZEROES;
    /** The largest payload {@link #stagePages} takes pages for. */
    static final int MAX_STAGED = 32 << 20;
    /** Largest size: its top table (one slot per 256 MiB) is then 2^22 slots. */
    public static final long MAX_SIZE = 1L << 50;

    private final long size;
    /** Each tree's slab source: a new one when the device is closed. */
    private final Supplier<SlabSource> sources;
    /** The pages; a new tree when closed. Each access reads it once and works in that tree. */
    private volatile PageTree tree;
    /** Writes, trims and zeroings ({@link #readVersion}). */
    private final ChangeCount changes = new ChangeCount();

    public MemoryDevice(long size) {
        this(size, SlabMemory.process());
    }

    /** As above, with slabs from {@code memory} (tests set its limit). */
    MemoryDevice(long size, SlabMemory memory) {
        this(size, (Supplier<SlabSource>) memory::lease);
    }

    /** As above, with slabs of pages from {@code newSlab} (tests make it run out). */
    MemoryDevice(long size, SlabSource newSlab) {
        this(size, () -> newSlab);
    }

    private MemoryDevice(long size, Supplier<SlabSource> sources) {
        if (size < 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException(
                    "memory device size out of range: " + size + " bytes (at most " + Sizes.format(MAX_SIZE) + ")");
        }
        this.size = size;
        this.sources = sources;
        this.tree = newTree();
    }

    private PageTree newTree() {
        return new PageTree((size + CHUNK - 1) >>> CHUNK_SHIFT, new PageSlabs(sources.get()));
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    /** Bytes of memory held for data (whole pages; those zeroed with NO_HOLE hold none). */
    public long allocatedBytes() {
        return tree.allocatedPages() * CHUNK;
    }

    /**
     * Bytes of page memory held: pages with data, free pages kept for reuse (up to 16 MiB of them
     * before their memory goes back to the system) and a slab's pages not yet used.
     */
    public long pageMemoryBytes() {
        return tree.pages.heldBytes();
    }

    /** Bytes the tree's index takes beyond the data: the top table and the nodes (object headers included). */
    public long indexBytes() {
        return tree.indexBytes();
    }

    @Override
    public void read(BlockRequest r, ByteBuffer dst) {
        PageTree t = tree;
        PageSlabs pages = t.pages;
        long pos = r.offset();
        while (dst.hasRemaining()) {
            long index = pos >>> CHUNK_SHIFT;
            int within = (int) (pos & (CHUNK - 1));
            int n = Math.min(dst.remaining(), CHUNK - within);
            int at = dst.position();
            int page = t.pinned(index);
            if (page < 0) {
                dst.put(at, ZEROES, 0, n);
            } else {
                try {
                    dst.put(at, pages.buffer(page), PageSlabs.offset(page) + within, n); // absolute: shared
                } finally {
                    pages.unpin(page);
                }
            }
            dst.position(at + n);
            pos += n;
        }
    }

    /** This device itself: nothing lies between its pages and a read. */
    @Override
    public ReadSource readSource(BlockRequest r) {
        return this;
    }

    @Override
    public int views(long offset, long length, ByteBuffer[] views, int from, PagePins pins) {
        PageTree t = tree;
        PageSlabs pages = t.pages;
        pins.holder(pages);
        long pos = offset;
        long end = offset + length;
        int count = 0;
        boolean unwritten = true;
        ByteBuffer run = null; // the run of adjacent pages the last view covers, not yet cut
        int runStart = 0;
        int runLength = 0;
        int last = -1;
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            int within = (int) (pos & (CHUNK - 1));
            int n = (int) Math.min(end - pos, CHUNK - within);
            int page = t.pinned(index);
            if (page >= 0 && last >= 0 && within == 0 && PageSlabs.adjacent(last, page)) {
                pins.add(page);
                runLength += n; // the page lies right after the run's: one view
                last = n == CHUNK ? page : -1;
                pos += n;
                continue;
            }
            if (run != null) {
                views[from + count++] = run.slice(runStart, runLength);
                run = null;
            }
            if (from + count == views.length) {
                if (page >= 0) {
                    pages.unpin(page); // not sent now: the caller asks again from here
                }
                break;
            }
            if (page >= 0) {
                pins.add(page);
                unwritten = false;
                run = pages.buffer(page);
                runStart = PageSlabs.offset(page) + within;
                last = within + n == CHUNK ? page : -1; // a run goes on only from a page's end
            } else {
                run = ZEROES;
                runStart = within;
                last = -1;
            }
            runLength = n;
            pos += n;
        }
        if (run != null) {
            views[from + count++] = run.slice(runStart, runLength);
        }
        return unwritten ? -count : count;
    }

    @Override
    public void release(PagePins pins) {
        pins.release();
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) throws DeviceException {
        changes.begin();
        try {
            PageTree t = tree;
            PageSlabs pages = t.pages;
            long pos = r.offset();
            while (src.hasRemaining()) {
                int within = (int) (pos & (CHUNK - 1));
                int n = Math.min(src.remaining(), CHUNK - within);
                int page = t.pageForWrite(pos >>> CHUNK_SHIFT);
                try {
                    pages.buffer(page).put(PageSlabs.offset(page) + within, src, src.position(), n);
                } finally {
                    pages.unpin(page);
                }
                src.position(src.position() + n);
                pos += n;
            }
        } finally {
            changes.end();
        }
    }

    /**
     * Pages of this device's tree, not yet in it, for a write's payload ({@link StagedPages}); none
     * past the device's end, nor for more than {@value #MAX_STAGED} bytes (the largest NBD block).
     */
    @Override
    public StagedPages stagePages(long offset, int length) {
        if (offset < 0 || length <= 0 || length > MAX_STAGED || offset > size - length) {
            return null; // the write will be refused; nothing to hold for it
        }
        return StagedPages.take(tree.pages, offset, length);
    }

    /**
     * Puts a payload received into this tree's own pages ({@link StagedPages}) in place: each whole
     * page goes into its slot, the page there before retired; or reads a staged payload (a pipe's)
     * straight into the pages, a run of pages side by side at a
     * time: one copy, where a buffer and then the pages cost two. Pages written in order lie side
     * by side, so a large write over them is a run or two.
     */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        changes.begin();
        try {
            PageTree t = tree;
            PageSlabs pages = t.pages;
            if (payload instanceof StagedPages staged) {
                if (!staged.of(pages)) {
                    // Received into a tree since dropped, whose memory went back (zeroes now): the
                    // write finishes there, as one under way in it when it was dropped does.
                    return true;
                }
                if (staged.stagedFor(r.offset(), r.length())) {
                    swapIn(t, staged, r.offset(), r.length());
                    return true;
                }
            }
            long pos = r.offset();
            long end = pos + r.length();
            int first = -1; // the run's pages, pinned: first to first + count - 1
            int count = 0;
            int runStart = 0;
            int runLength = 0;
            try {
                while (pos < end) {
                    int within = (int) (pos & (CHUNK - 1));
                    int n = (int) Math.min(end - pos, CHUNK - within);
                    int page = t.pageForWrite(pos >>> CHUNK_SHIFT);
                    pos += n;
                    if (count > 0 && PageSlabs.adjacent(first + count - 1, page)) {
                        count++; // every piece but the last ends at its page's end
                        runLength += n;
                        continue;
                    }
                    // The page starts a run; the run before is read (its pins go whatever happens).
                    int before = first;
                    int pinned = count;
                    int start = runStart;
                    int length = runLength;
                    first = page;
                    count = 1;
                    runStart = PageSlabs.offset(page) + within;
                    runLength = n;
                    if (pinned > 0) {
                        fill(pages, payload, before, pinned, start, length);
                    }
                }
                int pinned = count;
                count = 0;
                if (pinned > 0) {
                    fill(pages, payload, first, pinned, runStart, runLength);
                }
            } finally {
                unpin(pages, first, count); // a run not read: a page could not be had, or the read failed
            }
        } finally {
            changes.end();
        }
        return true;
    }

    /**
     * Puts {@code staged}'s whole pages in their slots and copies its partial ones (at either end)
     * into the pages there. The pages put out are retired last to first, so that the free list
     * gives them back first to last: a later write in order again takes pages side by side.
     */
    private static void swapIn(PageTree t, StagedPages staged, long offset, long length) throws DeviceException {
        PageSlabs pages = t.pages;
        long pos = offset;
        long end = offset + length;
        int[] out = new int[(int) ((end - (offset & -CHUNK) + CHUNK - 1) >>> CHUNK_SHIFT)];
        int first = out.length; // filled from the end: the last page put out is retired first
        try {
            for (int i = 0; pos < end; i++) {
                int within = (int) (pos & (CHUNK - 1));
                int n = (int) Math.min(end - pos, CHUNK - within);
                int fresh = staged.page(i);
                if (n == CHUNK) {
                    int old = t.swap(pos >>> CHUNK_SHIFT, fresh);
                    staged.taken(i);
                    pages.unpin(fresh); // the slot holds it now
                    if (old >= 0) {
                        out[--first] = old;
                    }
                } else {
                    int page = t.pageForWrite(pos >>> CHUNK_SHIFT);
                    try {
                        pages.buffer(page)
                                .put(
                                        PageSlabs.offset(page) + within,
                                        pages.buffer(fresh),
                                        PageSlabs.offset(fresh) + within,
                                        n);
                    } finally {
                        pages.unpin(page);
                    }
                }
                pos += n;
            }
        } finally {
            pages.retire(out, first, out.length - first, false);
        }
    }

    /** Reads the payload's next bytes into a run of pinned pages, then lets them go. */
    private static void fill(PageSlabs pages, StagedPayload payload, int first, int count, int start, int length)
            throws IOException {
        try {
            payload.readInto(pages.buffer(first).slice(start, length));
        } finally {
            unpin(pages, first, count);
        }
    }

    private static void unpin(PageSlabs pages, int first, int count) {
        for (int i = 0; i < count; i++) {
            pages.unpin(first + i);
        }
    }

    @Override
    public void flush(BlockRequest r) {
        // Memory is as durable as this device gets.
    }

    @Override
    public void trim(BlockRequest r) throws DeviceException {
        zero(r.offset(), r.length(), false);
    }

    @Override
    public void writeZeroes(BlockRequest r) throws DeviceException {
        zero(r.offset(), r.length(), r.has(BlockRequest.Flag.NO_HOLE));
    }

    private void zero(long offset, long length, boolean keepAllocated) throws DeviceException {
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

    private void zeroRange(long offset, long length, boolean keepAllocated) throws DeviceException {
        PageTree t = tree;
        PageSlabs pages = t.pages;
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            int within = (int) (pos & (CHUNK - 1));
            int n = (int) Math.min(end - pos, CHUNK - within);
            if (n == CHUNK) {
                long missing = t.missingRun(index);
                if (missing > 0) {
                    // Nothing to free, and nothing to keep: NO_HOLE creates no hole, and a page never
                    // written is one already (allocating it would let a request cost memory).
                    pos = Math.min(end, (index + missing) << CHUNK_SHIFT);
                    continue;
                }
                if (keepAllocated) {
                    t.keepZeroes(index);
                } else {
                    t.free(index);
                }
            } else {
                int page = t.pinned(index);
                if (page >= 0) {
                    try {
                        pages.buffer(page).put(PageSlabs.offset(page) + within, ZEROES, 0, n);
                    } finally {
                        pages.unpin(page);
                    }
                }
            }
            pos += n;
        }
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) {
        long end = Math.min(size, r.offset() + r.length());
        PageTree t = tree;
        long pos = r.offset();
        CoalescingExtentSink joined = new CoalescingExtentSink(sink); // pages of a kind leave as one extent
        while (pos < end) {
            long index = pos >>> CHUNK_SHIFT;
            long missing = t.missingRun(index);
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

    /**
     * Drops the data: the device starts empty, in a new tree. The old tree's memory goes back to
     * the system now, its slabs when nothing holds them (the collector unmaps them): a reply still
     * being sent from a page keeps its slab, and sends zeroes.
     */
    @Override
    public void close() {
        changes.bump(); // its data goes: a read done ahead of its delay is done again
        PageTree old = tree;
        tree = newTree();
        old.pages.giveBackAll();
    }
}
