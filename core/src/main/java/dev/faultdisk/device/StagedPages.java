package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * A write's payload received straight into pages of the memory device it goes to, taken before
 * the write enters the stack ({@link BlockDevice#stagePages}). The device puts the whole pages in
 * place of those the write covers and copies only a partial page at either end ({@link
 * MemoryDevice#writeStaged}): one copy of the data in the server, from the socket into these
 * pages, made as the bytes arrive, so the client's socket memory is let go at once. (Spliced
 * into a pipe the payload kept the client's pages until all of it was in, and the client paid
 * for fresh ones: docs/BENCHMARKS.md, "This round (after 1dff05f)".) Laid out as the device's
 * pages: byte {@code i} of the payload lies at {@code (offset + i) % 4096} of page {@code
 * (offset % 4096 + i) / 4096}.
 *
 * <p>Holds its pages pinned until the device takes them or {@link #discard} lets them go. One
 * thread at a time; the payload is taken one way only.
 */
public final class StagedPages implements StagedPayload {
    private static final int PAGE = PageSlabs.PAGE;

    private final PageSlabs slabs;
    private final long offset;
    private final int length;
    /** The pages in payload order; -1 where the device took one. */
    private final int[] pages;
    /** Payload bytes moved out by {@link #readInto}. */
    private int read;

    private StagedPages(PageSlabs slabs, long offset, int length, int[] pages) {
        this.slabs = slabs;
        this.offset = offset;
        this.length = length;
        this.pages = pages;
    }

    /** Pages from {@code slabs} for {@code length} bytes at {@code offset}, or null if they cannot all be had. */
    static StagedPages take(PageSlabs slabs, long offset, int length) {
        int lead = (int) (offset & (PAGE - 1));
        int[] pages = new int[(int) (((long) lead + length + PAGE - 1) / PAGE)];
        int taken = slabs.allocate(pages); // unzeroed: filled before anyone reads them
        if (taken < pages.length) {
            slabs.retire(pages, 0, taken, true);
            return null; // the memory exports' limit: the write goes the buffered way, and may fail there
        }
        return new StagedPages(slabs, offset, length, pages);
    }

    /**
     * Where the payload goes, in order: a view a run of pages side by side (a write after writes
     * in order takes pages in order, so a 1 MiB payload is usually one run). New views each call.
     */
    public ByteBuffer[] views() {
        int count = 1;
        for (int i = 1; i < pages.length; i++) {
            if (!PageSlabs.adjacent(pages[i - 1], pages[i])) {
                count++;
            }
        }
        ByteBuffer[] views = new ByteBuffer[count];
        int lead = (int) (offset & (PAGE - 1));
        int left = length;
        int v = 0;
        int first = 0;
        for (int i = 1; i <= pages.length; i++) {
            if (i < pages.length && PageSlabs.adjacent(pages[i - 1], pages[i])) {
                continue;
            }
            int start = first == 0 ? lead : 0;
            int n = Math.min(left, (i - first) * PAGE - start);
            views[v++] = slabs.buffer(pages[first]).slice(PageSlabs.offset(pages[first]) + start, n);
            left -= n;
            first = i;
        }
        return views;
    }

    /** The payload's bytes. */
    public int length() {
        return length;
    }

    /** Whether these are pages of {@code owner}. */
    boolean of(PageSlabs owner) {
        return slabs == owner;
    }

    /** Whether these hold, untouched, exactly a write of {@code bytes} at {@code at}. */
    boolean stagedFor(long at, long bytes) {
        return offset == at && length == bytes && read == 0;
    }

    /** The {@code i}th page, still held here. */
    int page(int i) {
        return pages[i];
    }

    /** The device took the {@code i}th page: {@link #discard} leaves it. */
    void taken(int i) {
        pages[i] = -1;
    }

    @Override
    public void readInto(ByteBuffer dst) throws IOException {
        if (dst.remaining() > length - read) {
            throw new IOException(
                    "asked for " + dst.remaining() + " bytes of a payload with " + (length - read) + " left");
        }
        int lead = (int) (offset & (PAGE - 1));
        while (dst.hasRemaining()) {
            int at = lead + read;
            int page = pages[at / PAGE];
            if (page < 0) {
                throw new IOException("staged page " + at / PAGE + " already taken");
            }
            int within = at & (PAGE - 1);
            int n = Math.min(dst.remaining(), PAGE - within);
            dst.put(dst.position(), slabs.buffer(page), PageSlabs.offset(page) + within, n);
            dst.position(dst.position() + n);
            read += n;
        }
    }

    /** The payload written the buffered way: these pages are a memory device's, never a file's. */
    @Override
    public void writeTo(FileChannel file, int fd, long at) throws IOException {
        long pos = at;
        for (ByteBuffer view : views()) {
            while (view.hasRemaining()) {
                pos += file.write(view, pos);
            }
        }
        read = length;
    }

    /**
     * Lets go of every page the device did not take, last first (so the free list gives them
     * back in order); called once, written or not.
     */
    public void discard() {
        int left = 0;
        for (int page : pages) {
            if (page >= 0) {
                pages[left++] = page; // in place: never ahead of the reading
            }
        }
        for (int i = 0, j = left - 1; i < j; i++, j--) {
            int page = pages[i];
            pages[i] = pages[j];
            pages[j] = page;
        }
        slabs.retire(pages, 0, left, true); // never seen by anyone: free once our pin goes
        Arrays.fill(pages, -1);
    }
}
