package dev.faultdisk.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * The memory that memory exports leave to the rest of the system: a new slab is refused while
 * the system has less than the reserve available (MemAvailable: free memory and what the kernel
 * can reclaim, page cache among it; in a container with a memory limit, the room left below it
 * where that is less, {@link CgroupMemory}), so filling exports ends in ENOSPC for the client that
 * asked, not in the OOM killer choosing a process, perhaps the application under test. {@link
 * SlabMemory}'s limit, by default the machine's memory (the container's limit), counts only the
 * exports' own slabs.
 *
 * <p>Read again after every {@link #CHECK_BYTES} of slabs mapped, and for each slab once within
 * that of the reserve: a reading costs about 20 microseconds (/proc/meminfo) to 90 (with the
 * control groups' files, a hierarchy three deep), a slab's first write about a millisecond.
 * Another process's growth is therefore seen up to {@link #CHECK_BYTES} late.
 */
final class SystemReserve {
    /** Slabs mapped between two readings while far from the reserve. */
    static final long CHECK_BYTES = 32L << 20;

    private static final Path MEMINFO = Path.of("/proc/meminfo");

    /** Bytes the system has available, or -1 where it does not say (the reserve then holds nothing back). */
    private final LongSupplier available;

    private volatile long bytes;
    /** The last reading and the slabs mapped at it; races between slabs only make a reading early or late. */
    private volatile long lastAvailable;

    private volatile long mappedAtReading = Long.MIN_VALUE / 2;

    SystemReserve(long bytes, LongSupplier available) {
        bytes(bytes);
        this.available = available;
    }

    /** The default for a machine of {@code machineMemory} bytes: a 32nd of it, from 64 MiB to 1 GiB. */
    static SystemReserve forMachine(long machineMemory) {
        long share = machineMemory / 32;
        return new SystemReserve(Math.clamp(share, 64L << 20, 1L << 30), SystemReserve::available);
    }

    /** Sets the reserve; 0 turns it off. */
    void bytes(long reserve) {
        if (reserve < 0) {
            throw new IllegalArgumentException("memory reserve must not be negative");
        }
        bytes = reserve;
    }

    long bytes() {
        return bytes;
    }

    /** What the system has available now, read afresh (as the reserve measures it); -1 where unknown. */
    long availableNow() {
        return available.getAsLong();
    }

    /** Whether one more slab, with {@code mapped} bytes of slabs mapped now, leaves the reserve whole. */
    boolean keeps(long mapped, long slab) {
        long reserve = bytes;
        if (reserve == 0) {
            return true;
        }
        long since = mapped - mappedAtReading;
        long estimate = lastAvailable - since;
        if (since >= CHECK_BYTES || since < 0 || estimate - slab - CHECK_BYTES < reserve) {
            long now = available.getAsLong();
            if (now < 0) {
                return true;
            }
            lastAvailable = now;
            mappedAtReading = mapped;
            estimate = now;
        }
        return estimate - slab >= reserve;
    }

    /** Why a slab was refused, for the client's error and the log. */
    String refusal() {
        return "the system has " + (Math.max(0, lastAvailable) >> 20)
                + " MiB of memory available (in a container: room below its memory limit, less the heap's room"
                + " to grow), within the "
                + Sizes.format(bytes) + " that memory exports leave it (faultdisk serve --memory-reserve lowers it)";
    }

    /** What this process has available now: {@link #available(long, long, long)} of the system's figures. */
    static long available() {
        Runtime jvm = Runtime.getRuntime();
        long max = jvm.maxMemory(); // Long.MAX_VALUE where the heap has no limit: its growth then unknown, 0
        long growth = max == Long.MAX_VALUE ? 0 : max - jvm.totalMemory();
        return available(memAvailable(), CgroupMemory.process().available(), growth);
    }

    /**
     * The less of MemAvailable ({@code system}) and a control group's room ({@code group}, {@link
     * CgroupMemory}), or -1 if neither says. In a group the heap's growth still allowed ({@code
     * heapGrowth}: its maximum less what it holds now) is taken from the room: the JVM sizes its
     * heap to a quarter of the limit, and a heap grown into room the exports took is the OOM
     * killer's. On a host without a limit it is not (a quarter of the machine, which the heap of a
     * server rarely nears).
     */
    static long available(long system, long group, long heapGrowth) {
        if (group < 0) {
            return system;
        }
        long room = Math.max(0, group - Math.max(0, heapGrowth));
        return system < 0 ? room : Math.min(system, room);
    }

    /** MemAvailable from /proc/meminfo in bytes, or -1. */
    static long memAvailable() {
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("MemAvailable:")) {
                    String kib = line.substring("MemAvailable:".length())
                            .replace("kB", "")
                            .strip();
                    return Long.parseLong(kib) << 10;
                }
            }
        } catch (IOException | RuntimeException e) {
            // no such file (not Linux) or an unexpected line: the reserve holds nothing back
        }
        return -1;
    }
}
