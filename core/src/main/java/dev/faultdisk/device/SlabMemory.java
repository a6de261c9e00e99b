package dev.faultdisk.device;

import dev.faultdisk.wire.net.RateLimitedLog;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where memory exports' pages come from: anonymous memory mapped a slab at a time (mmap), on a
 * huge page where the system gives them and its pages made in one call, outside the JVM's
 * direct-memory limit. Payload buffers live under that limit, and the pages once did too, so a
 * full memory export left requests failing with ENOMEM, and all memory exports together could
 * hold no more than it (by default the heap's maximum, a quarter of the machine). A slab is
 * unmapped when the collector finds nothing holding a buffer over it (a reply still being sent
 * from a page keeps it), as the JVM frees its own allocations.
 *
 * <p>All memory exports of a process share one limit ({@link #process()}), by default the
 * machine's memory (a container's where it has one), and leave the system a reserve of available
 * memory ({@link SystemReserve}): past either a write fails with ENOSPC, the server goes on. At
 * the limit the collector is asked to run first, as the JVM does for its direct memory, while a
 * closed export's slabs wait for it (they are counted until it has found them unreachable); with
 * none waiting the write fails at once. Where mmap cannot be called the slabs come from the JVM's
 * own allocator, under its direct-memory limit.
 */
public final class SlabMemory {
    /** Bytes a slab. */
    static final long SLAB_BYTES = (long) PageSlabs.PAGE << PageSlabs.SLAB_SHIFT;

    /** Slabs on huge pages where the system has them (-Dfaultdisk.memory.hugePages=false: never). */
    private static final boolean HUGE_PAGES = !"false".equals(System.getProperty("faultdisk.memory.hugePages"));
    /** A slab's pages made when it is mapped (-Dfaultdisk.memory.populate=false: on first touch each). */
    static final boolean POPULATE = !"false".equals(System.getProperty("faultdisk.memory.populate"));
    /** Waits for the collector at the limit, doubling from 1 ms: about half a second in all. */
    private static final int WAITS = 9;

    private static final SlabMemory PROCESS = new SlabMemory(machineMemory());
    /** Refusals, which every write into an export's new pages may provoke: a line each 10 s at most. */
    private static final RateLimitedLog REFUSALS =
            new RateLimitedLog(System.getLogger(SlabMemory.class.getName()), 10_000);

    private final AtomicLong mapped = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    /** Bytes of slabs of closed exports' trees still mapped: what the collector can give back. */
    private final AtomicLong awaiting = new AtomicLong();
    /** Waits at the limit for the collector, for tests. */
    private final AtomicLong collectorWaits = new AtomicLong();

    private final boolean hugePages;
    private final boolean populate;
    private final SystemReserve reserve;
    private volatile long limit;

    /** Slabs up to {@code limit} bytes mapped at once, leaving the machine its default reserve (tests make their own). */
    SlabMemory(long limit) {
        this(limit, HUGE_PAGES, POPULATE, SystemReserve.forMachine(machineMemory()));
    }

    /** As {@link #SlabMemory(long)}, asking for huge pages or not, making each slab's pages at once or not. */
    SlabMemory(long limit, boolean hugePages, boolean populate, SystemReserve reserve) {
        limit(limit);
        this.hugePages = hugePages;
        this.populate = populate;
        this.reserve = reserve;
    }

    /** The limit every memory export of this process shares. */
    public static SlabMemory process() {
        return PROCESS;
    }

    /** Sets the bytes of slabs mapped at once (at least one slab's); slabs mapped past it stay. */
    public void limit(long bytes) {
        if (bytes < SLAB_BYTES) {
            throw new IllegalArgumentException("memory limit must be at least " + Sizes.format(SLAB_BYTES));
        }
        limit = bytes;
    }

    public long limit() {
        return limit;
    }

    /**
     * Sets the memory left to the rest of the system: no slab is mapped while the system has less
     * available ({@link SystemReserve}); 0 turns it off.
     */
    public void systemReserve(long bytes) {
        reserve.bytes(bytes);
    }

    public long systemReserve() {
        return reserve.bytes();
    }

    /**
     * Memory this process has available now, as the reserve measures it (MemAvailable, or in a
     * container the room below its memory limit less the heap's room to grow, where less); -1
     * where the system does not say.
     */
    public long systemAvailable() {
        return reserve.availableNow();
    }

    /** Slabs refused so far, at the limit or the system's reserve (each failed a write with ENOSPC). */
    public long refusals() {
        return refused.get();
    }

    /** Bytes of slabs mapped now (their memory partly given back or never touched included). */
    public long mappedBytes() {
        return mapped.get();
    }

    /** Bytes of slabs that closed exports let go and the collector has not yet unmapped. */
    long awaitingBytes() {
        return awaiting.get();
    }

    /** Times a refusal at the limit waited for the collector. */
    long collectorWaits() {
        return collectorWaits.get();
    }

    /** A source of slabs for one page tree, whose slabs count as the collector's once it is released. */
    Lease lease() {
        return new Lease();
    }

    /**
     * A slab of zeroes, 2 MiB aligned to a page, of no tree's: never counted as awaiting the
     * collector. OutOfMemoryError, which {@link PageSlabs} answers with ENOSPC, past the limit or
     * when the system refuses.
     */
    MemorySegment slab() {
        return slab(null);
    }

    private MemorySegment slab(Lease lease) {
        if (!Libc.canMap()) {
            return Arena.ofAuto().allocate(SLAB_BYTES, PageSlabs.PAGE);
        }
        countIn();
        long address = hugePages ? alignedMapping() : mapping(SLAB_BYTES);
        if (address < 0) {
            mapped.addAndGet(-SLAB_BYTES);
            throw new OutOfMemoryError("mmap of a slab failed (errno " + -address + ")");
        }
        if (populate) {
            // One call makes the slab's pages where a fresh export's writes would fault once a page
            // (on 4 KiB pages a fill ran at 0.92 of nbdkit). Refused before Linux 5.14, or short of
            // memory: the pages are then made on first touch, as without it.
            Libc.madvise(address, SLAB_BYTES, Libc.MADV_POPULATE_WRITE);
        }
        if (lease != null) {
            lease.mapped();
        }
        // The cleanup holds the lease, never the tree: the tree's end is what lets the slab go.
        return MemorySegment.ofAddress(address).reinterpret(SLAB_BYTES, Arena.ofAuto(), slab -> unmap(slab, lease));
    }

    /**
     * A slab on a 2 MiB boundary (a larger mapping cut down to it), which the kernel may back with
     * one huge page where asked to (transparent huge pages in "madvise" mode, Debian's default):
     * a fresh export's pages then cost one fault a slab, not one a page.
     */
    private static long alignedMapping() {
        long wide = mapping(2 * SLAB_BYTES);
        if (wide < 0) {
            return wide;
        }
        long start = (wide + SLAB_BYTES - 1) & -SLAB_BYTES;
        if (start > wide) {
            Libc.munmap(wide, start - wide);
        }
        long tail = wide + 2 * SLAB_BYTES - (start + SLAB_BYTES);
        if (tail > 0) {
            Libc.munmap(start + SLAB_BYTES, tail);
        }
        Libc.madvise(start, SLAB_BYTES, Libc.MADV_HUGEPAGE); // refused where there are none: 4 KiB pages then
        return start;
    }

    private static long mapping(long length) {
        return Libc.mmap(
                length,
                Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE,
                -1,
                0);
    }

    private void unmap(MemorySegment slab, Lease lease) {
        Libc.munmap(slab.address(), SLAB_BYTES); // where it fails, the range's memory was given back on close
        if (lease != null) {
            lease.unmapped();
        }
        mapped.addAndGet(-SLAB_BYTES);
    }

    /**
     * Counts a slab in, waiting for the collector at the limit while closed exports' slabs await
     * it; OutOfMemoryError if it frees nothing, at once if none await it, or at once below the
     * system's reserve (a closed export's memory went back to the system at its close: the
     * collector has nothing to give there).
     */
    private void countIn() {
        if (!reserve.keeps(mapped.get(), SLAB_BYTES)) {
            throw refuse(reserve.refusal());
        }
        for (int wait = 0; !counted(); wait++) {
            if (wait == WAITS || awaiting.get() == 0) {
                throw refuse("the memory exports' limit of " + Sizes.format(limit)
                        + " is mapped (faultdisk serve --memory-limit raises it)");
            }
            if (wait == 0) {
                System.gc(); // slabs of closed exports go once the collector has found them unreachable
            }
            collectorWaits.incrementAndGet();
            try {
                Thread.sleep(1L << wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OutOfMemoryError("interrupted waiting for memory exports' slabs to be freed");
            }
        }
    }

    /** Counts and logs a refused slab; the error to throw, which {@link PageSlabs} answers with ENOSPC. */
    private OutOfMemoryError refuse(String why) {
        refused.incrementAndGet();
        REFUSALS.log(System.Logger.Level.WARNING, "slab", "a memory export's write failed with ENOSPC: " + why);
        return new OutOfMemoryError(why);
    }

    /** Counts a slab in if it fits under the limit. */
    private boolean counted() {
        long now;
        do {
            now = mapped.get();
            if (now > limit - SLAB_BYTES) {
                return false;
            }
        } while (!mapped.compareAndSet(now, now + SLAB_BYTES));
        return true;
    }

    /**
     * The slabs of one page tree ({@link PageSlabs}): while it lives they are its own, once it is
     * released the collector's to unmap, counted in {@link #awaiting} until it has. Exact under
     * its lock: a slab mapped after the release (an access still under way) counts there at once.
     */
    final class Lease implements SlabSource {
        /** The tree's slabs mapped and not yet unmapped, until it is released. */
        private long live;

        private boolean released;

        @Override
        public MemorySegment get() {
            return slab(this);
        }

        @Override
        public synchronized void release() {
            if (!released) {
                released = true;
                awaiting.addAndGet(live * SLAB_BYTES);
            }
        }

        private synchronized void mapped() {
            if (released) {
                awaiting.addAndGet(SLAB_BYTES);
            } else {
                live++;
            }
        }

        private synchronized void unmapped() {
            if (released) {
                awaiting.addAndGet(-SLAB_BYTES);
            } else {
                live--;
            }
        }
    }

    /** The machine's memory, or its container's; unlimited where the JVM cannot say. */
    private static long machineMemory() {
        try {
            long total = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getTotalMemorySize();
            return total >= SLAB_BYTES ? total : Long.MAX_VALUE;
        } catch (RuntimeException | LinkageError e) {
            return Long.MAX_VALUE;
        }
    }
}
