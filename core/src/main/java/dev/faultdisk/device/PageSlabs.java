package dev.faultdisk.device;

import dev.faultdisk.wire.Errno;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A memory device's 4 KiB pages, outside the heap: carved in order from slabs of 2 MiB (pages
 * written one after another lie side by side, so a large read goes out in few pieces), named by a
 * handle (slab and slot), and kept for reuse when freed. One allocation a slab, not a page: a
 * malloc a page grew glibc's arenas one mprotect at a time and cost a fresh export's fill a third
 * of its speed (docs/BENCHMARKS.md).
 *
 * <p>Whoever reads or writes a page's bytes holds a pin on it ({@link #pin}, {@link #unpin}); a
 * page taken out of the device is {@linkplain #retire retired} and goes back to the free list only
 * when the last pin goes, so a write racing a trim of its own page, or a reply still being sent
 * from a page, never touches a page that another block has since been given. A pinner looks the
 * page up, pins it, then looks again: a page retired meanwhile is refused or seen gone.
 */
final class PageSlabs {
    static final int PAGE_SHIFT = 12;
    static final int PAGE = 1 << PAGE_SHIFT;
    /** Pages a slab: 2 MiB. */
    static final int SLAB_SHIFT = 9;

    private static final int SLAB_PAGES = 1 << SLAB_SHIFT;
    /** Slabs at most: handles stay positive ints (8 TiB of pages). */
    private static final int MAX_SLABS = 1 << (31 - SLAB_SHIFT);
    /** A page's state: taken out of the device, and (with {@link #FREED}) back on the free list. */
    private static final int RETIRED = 1 << 30;

    private static final int FREED = 1 << 29;
    private static final int PINS = FREED - 1;
    private static final VarHandle STATE = MethodHandles.arrayElementVarHandle(int[].class);
    /** A page of zeroes, never written: copied over a page reused, read in place of a page with no data. */
    static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(PAGE);
    /** Free pages held before their memory goes back to the system, in one batch (16 MiB). */
    static final int RETURN_BATCH = 4096;
    /** Pages side by side (64 KiB) worth a call to give their memory back. */
    static final int RETURN_RUN = 16;

    private final SlabSource newSlab;
    /** Grown by copying under the lock; an entry, once set, never changes. */
    private volatile ByteBuffer[] buffers = new ByteBuffer[8];

    private volatile int[][] states = new int[8][];
    private int slabs;
    /** Pages carved from the newest slab. */
    private int carved = SLAB_PAGES;

    /** Slabs' addresses, for handing free pages' memory back (as {@link #buffers}). */
    private volatile long[] addresses = new long[8];
    /** Pages freed whose memory is still held (reused first: no page fault, zeroed on reuse). */
    private int[] free = new int[64];

    private int freeCount;
    /** Pages freed whose memory went back to the system: they read as zeroes, and cost a page fault. */
    private int[] returned = new int[0];

    private int returnedCount;
    /**
     * The returned list's last entries (the next taken) made again ahead of being taken ({@link
     * #populateRun}): their memory is held, so they are taken before pages returned after them, are
     * not made again when taken, and count as held until then.
     */
    private int populatedCount;
    /** Pages to make from the page {@link #take} took last ({@link #populateRun}); 0 for none. Under the lock. */
    private int toPopulate;
    /** Free pages held that start a return: {@link #RETURN_BATCH}, or twice those left after the last. */
    private int returnAt = RETURN_BATCH;

    /**
     * Slabs from {@code newSlab} (tests make it run out). A slab's memory lives as long as any buffer
     * over it: a reply being sent from it keeps it after the device has gone.
     */
    PageSlabs(SlabSource newSlab) {
        this.newSlab = newSlab;
    }

    /** The buffer over {@code page}'s slab; the page starts at {@link #offset}. */
    ByteBuffer buffer(int page) {
        return buffers[page >>> SLAB_SHIFT];
    }

    static int offset(int page) {
        return (page & (SLAB_PAGES - 1)) << PAGE_SHIFT;
    }

    /** Whether {@code next} lies right after {@code page} in the same slab. */
    static boolean adjacent(int page, int next) {
        return next == page + 1 && (next & (SLAB_PAGES - 1)) != 0;
    }

    /**
     * A page of zeroes, pinned once for the caller. ENOSPC when no slab can be had (the memory
     * exports' limit reached, the system's memory refused, or the handles spent).
     */
    int allocate() throws DeviceException {
        int page;
        boolean reused;
        int populate;
        synchronized (this) {
            reused = freeCount > 0;
            page = take();
            populate = toPopulate;
        }
        populate(page, populate);
        pinTaken(page);
        if (reused) {
            buffer(page).put(offset(page), ZEROES, 0, PAGE);
        }
        return page;
    }

    /**
     * Fills {@code into} with pages as {@link #allocate()} takes them, but unzeroed (their taker fills
     * them whole before anyone else sees them), under one
     * hold of the lock (a 1 MiB write's payload takes 256, and writers on other connections take
     * theirs meanwhile: taken one at a time, each payload's pages came interleaved with theirs).
     * Returns how many it took: fewer than asked once no more memory can be had.
     */
    int allocate(int[] into) {
        int taken = 0;
        long[] runs = null; // pages taken from the returned list that start a run to make: page << 32 | count
        int runCount = 0;
        synchronized (this) {
            try {
                for (; taken < into.length; taken++) {
                    into[taken] = take();
                    if (toPopulate > 0) {
                        runs = runs == null ? new long[into.length] : runs;
                        runs[runCount++] = ((long) into[taken] << 32) | toPopulate;
                    }
                }
            } catch (DeviceException e) {
                // the memory exports' limit: the caller has what was taken
            }
        }
        for (int i = 0; i < runCount; i++) {
            populate((int) (runs[i] >>> 32), (int) runs[i]);
        }
        for (int i = 0; i < taken; i++) {
            pinTaken(into[i]);
        }
        return taken;
    }

    /** A page off the free list, the returned list or a slab; under the lock. */
    private int take() throws DeviceException {
        toPopulate = 0;
        if (freeCount > 0) {
            return free[--freeCount];
        }
        if (returnedCount > 0) {
            int page = returned[--returnedCount];
            if (populatedCount > 0) {
                populatedCount--;
            } else {
                toPopulate = populateRun();
            }
            return page;
        }
        return carve();
    }

    /**
     * Makes {@code count} pages from {@code page} on at once. Outside the lock: the run's pages may
     * be taken and written meanwhile, which making them (zeroes where none is yet) never undoes.
     */
    private void populate(int page, int count) {
        if (count > 0) {
            Libc.madvise(
                    addresses[page >>> SLAB_SHIFT] + offset(page),
                    (long) count << PAGE_SHIFT,
                    Libc.MADV_POPULATE_WRITE);
        }
    }

    /** Pins a page just taken once, for its taker. */
    private void pinTaken(int page) {
        int[] state = states[page >>> SLAB_SHIFT];
        int slot = page & (SLAB_PAGES - 1);
        // Pins a late pinner took on the page's last life stay counted; it sees the device's slot
        // changed and lets them go.
        int s;
        do {
            s = (int) STATE.getVolatile(state, slot);
        } while (!STATE.compareAndSet(state, slot, s, (s & PINS) + 1));
    }

    /**
     * Pages to make at once from the page just taken from the returned list on: the run of them
     * side by side that starts there (within its slab). Their memory went back to the system, so
     * each would otherwise cost a fault when written again (a refill after trims ran at half a
     * fresh fill's speed). As for new slabs, -Dfaultdisk.memory.populate=false turns it off.
     */
    private int populateRun() {
        if (!SlabMemory.POPULATE) {
            return 0;
        }
        int k = returnedCount; // returned[k] is the page taken; the next ones taken lie below it
        while (k > 0 && adjacent(returned[k], returned[k - 1])) {
            k--;
        }
        populatedCount = returnedCount - k;
        return 1 + populatedCount;
    }

    private int carve() throws DeviceException {
        if (carved == SLAB_PAGES) {
            addSlab();
        }
        return ((slabs - 1) << SLAB_SHIFT) | carved++;
    }

    private void addSlab() throws DeviceException {
        if (slabs == MAX_SLABS) {
            throw full("all " + MAX_SLABS + " slabs in use");
        }
        MemorySegment segment;
        try {
            segment = newSlab.get();
        } catch (OutOfMemoryError e) {
            throw full(e.getMessage());
        }
        ByteBuffer slab = segment.asByteBuffer();
        if (slabs == buffers.length) {
            int[][] grownStates = Arrays.copyOf(states, slabs * 2);
            grownStates[slabs] = new int[SLAB_PAGES];
            ByteBuffer[] grown = Arrays.copyOf(buffers, slabs * 2);
            grown[slabs] = slab;
            long[] grownAddresses = Arrays.copyOf(addresses, slabs * 2);
            grownAddresses[slabs] = segment.address();
            states = grownStates;
            buffers = grown;
            addresses = grownAddresses;
        } else {
            states[slabs] = new int[SLAB_PAGES];
            buffers[slabs] = slab; // published to readers by the device's slot that names a page of it
            addresses[slabs] = segment.address();
        }
        slabs++;
        carved = 0;
    }

    private DeviceException full(String why) {
        return new DeviceException(
                Errno.ENOSPC, "memory export full: " + why + " (" + Sizes.format(heldBytes()) + " of pages held)");
    }

    /** Pins {@code page}; false if it was retired (the caller's slot has changed: look again). */
    boolean pin(int page) {
        int[] state = states[page >>> SLAB_SHIFT];
        int old = (int) STATE.getAndAdd(state, page & (SLAB_PAGES - 1), 1);
        if ((old & RETIRED) != 0) {
            unpin(page);
            return false;
        }
        return true;
    }

    void unpin(int page) {
        int[] state = states[page >>> SLAB_SHIFT];
        int now = (int) STATE.getAndAdd(state, page & (SLAB_PAGES - 1), -1) - 1;
        if (now == RETIRED) {
            release(page, state);
        }
    }

    /** {@code page} is out of the device: free once no pin holds it. */
    void retire(int page) {
        int[] state = states[page >>> SLAB_SHIFT];
        int old = (int) STATE.getAndBitwiseOr(state, page & (SLAB_PAGES - 1), RETIRED);
        if ((old & PINS) == 0) {
            release(page, state);
        }
    }

    /**
     * Retires {@code count} pages from {@code pages[from]} on as {@link #retire} does, dropping a
     * pin of the caller's on each if {@code pinned}; those free at once go onto the free list in
     * the order given under one hold of the lock, so the last given is the first taken again.
     * Overwrites {@code pages}' entries from {@code from} on.
     */
    void retire(int[] pages, int from, int count, boolean pinned) {
        int freed = from;
        for (int i = from; i < from + count; i++) {
            int page = pages[i];
            int[] state = states[page >>> SLAB_SHIFT];
            int slot = page & (SLAB_PAGES - 1);
            int old = (int) STATE.getAndBitwiseOr(state, slot, RETIRED);
            boolean unpinned = pinned ? (int) STATE.getAndAdd(state, slot, -1) - 1 == RETIRED : (old & PINS) == 0;
            if (unpinned && STATE.compareAndSet(state, slot, RETIRED, RETIRED | FREED)) {
                pages[freed++] = page;
            }
        }
        if (freed > from) {
            free(pages, from, freed - from);
        }
    }

    /**
     * Onto the free list, once: whoever moves it from retired and unpinned to freed. Past {@link
     * #returnAt} pages held free, the memory of those lying in runs goes back to the system.
     */
    private void release(int page, int[] state) {
        if (!STATE.compareAndSet(state, page & (SLAB_PAGES - 1), RETIRED, RETIRED | FREED)) {
            return;
        }
        int[] batch;
        synchronized (this) {
            pushFree(page);
            batch = batchToReturn();
        }
        if (batch != null) {
            giveBack(batch);
        }
    }

    /** Puts freed pages onto the free list, in order. */
    private void free(int[] pages, int from, int count) {
        int[] batch;
        synchronized (this) {
            for (int i = from; i < from + count; i++) {
                pushFree(pages[i]);
            }
            batch = batchToReturn();
        }
        if (batch != null) {
            giveBack(batch);
        }
    }

    /** The free list, taken whole to hand back to the system once past {@link #returnAt}; else null. Under the lock. */
    private int[] batchToReturn() {
        if (freeCount < returnAt || !Libc.canAdvise()) {
            return null;
        }
        int[] batch = Arrays.copyOf(free, freeCount);
        freeCount = 0;
        return batch;
    }

    /**
     * Hands back to the system (madvise DONTNEED) the memory of free pages lying in runs of {@link
     * #RETURN_RUN} or more side by side, a call a run, and lists them as returned; scattered pages
     * (random 4 KiB trims) stay free for the next writes, where a call a page cost a third of the
     * trims' speed (docs/BENCHMARKS.md), and are looked at again once the free list has doubled.
     * The batch is in neither list meanwhile, so nothing takes its pages.
     */
    private void giveBack(int[] batch) {
        Arrays.sort(batch);
        long[] at = addresses;
        int[] scattered = new int[batch.length];
        int kept = 0;
        int left = 0;
        for (int i = 0; i < batch.length; ) {
            int j = i + 1;
            while (j < batch.length && adjacent(batch[j - 1], batch[j])) {
                j++;
            }
            long address = at[batch[i] >>> SLAB_SHIFT] + offset(batch[i]);
            if (j - i >= RETURN_RUN && madvise(address, (long) (j - i) << PAGE_SHIFT)) {
                System.arraycopy(batch, i, batch, kept, j - i); // the returned go first
                kept += j - i;
            } else {
                System.arraycopy(batch, i, scattered, left, j - i);
                left += j - i;
            }
            i = j;
        }
        synchronized (this) {
            if (returnedCount + kept > returned.length) {
                returned = Arrays.copyOf(returned, Math.max(returnedCount + kept, returned.length * 2));
            }
            // Below the pages made ahead, which stay the next taken.
            int below = returnedCount - populatedCount;
            System.arraycopy(returned, below, returned, below + kept, populatedCount);
            for (int k = kept - 1; k >= 0; k--) {
                returned[below++] = batch[k]; // taken from the end: in order, side by side
            }
            returnedCount += kept;
            for (int k = 0; k < left; k++) {
                pushFree(scattered[k]);
            }
            returnAt = Math.max(RETURN_BATCH, 2 * freeCount);
        }
    }

    /**
     * Hands every slab's memory back to the system at once, for a device dropping its data: the
     * collector unmaps the slabs only when it next runs (a removed 2 GiB export's memory stayed
     * held 40-50 s). Safe with accesses still under way: what they read is zeroes, what they write
     * lands in a page no one reads again. The slabs' source is told they are the collector's now.
     */
    void giveBackAll() {
        int count;
        synchronized (this) {
            count = slabs;
        }
        long[] at = addresses;
        for (int i = 0; i < count && Libc.canAdvise(); i++) {
            madvise(at[i], (long) SLAB_PAGES << PAGE_SHIFT);
        }
        newSlab.release();
    }

    private void pushFree(int page) {
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = page;
    }

    private static boolean madvise(long address, long length) {
        return Libc.madvise(address, length, Libc.MADV_DONTNEED);
    }

    /**
     * Bytes of slabs held but those whose memory went back to the system (free pages held and
     * returned pages made again ahead of being taken included).
     */
    synchronized long heldBytes() {
        return (((long) slabs << SLAB_SHIFT) - returnedCount + populatedCount) << PAGE_SHIFT;
    }
}
