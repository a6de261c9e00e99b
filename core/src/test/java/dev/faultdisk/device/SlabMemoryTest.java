package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Memory exports' slabs mapped outside the JVM's direct memory, under a limit of their own: what
 * payload buffers need stays theirs, a write past the limit fails with ENOSPC, a closed export's
 * slabs come back once the collector has found them, slabs lie on huge pages where the system
 * has them, a slab's pages are made when it is mapped, and the system keeps a reserve of memory.
 */
class SlabMemoryTest {
    private static final int MIB = 1 << 20;
    private static final int SLAB_PAGES = (int) (SlabMemory.SLAB_BYTES / 4096);
    private static final SystemReserve NO_RESERVE = new SystemReserve(0, () -> -1);

    @Test
    void slabsLieOutsideTheJvmsDirectMemory() throws IOException {
        SlabMemory memory = new SlabMemory(1L << 30);
        MemoryDevice d = new MemoryDevice(64 * MIB, memory::slab);
        long direct = directBytes();
        writeMiBs(d, 32);
        long grown = directBytes() - direct;
        assertTrue(grown < 2 * MIB, "direct memory grew by " + grown + " bytes for 32 MiB of pages");
        assertEquals(32L * MIB, memory.mappedBytes(), "16 slabs of 2 MiB");
        assertEquals(32L * MIB, d.pageMemoryBytes());
        assertArrayEquals(Io.filled(MIB, 8), Io.read(d, 7L * MIB, MIB));
        assertArrayEquals(new byte[4096], Io.read(d, 40L * MIB, 4096), "never written");
    }

    @Test
    void aWritePastTheLimitFailsWithEnospcAndWhatIsHeldStaysUsable() throws IOException {
        SlabMemory memory = new SlabMemory(8 * MIB);
        MemoryDevice d = new MemoryDevice(64 * MIB, memory::slab);
        Io.write(d, 0, Io.filled(8 * MIB, 3), false); // four slabs: the limit
        DeviceException e = assertThrows(DeviceException.class, () -> Io.write(d, 8L * MIB, Io.filled(4096, 4), false));
        assertEquals(Errno.ENOSPC, e.errno());
        assertTrue(
                e.getMessage().contains("limit of 8 MiB") && e.getMessage().contains("--memory-limit"), e.getMessage());
        assertEquals(8L * MIB, memory.mappedBytes());
        assertEquals(1, memory.refusals());
        Io.write(d, 4096, Io.filled(4096, 5), false); // a page held takes writes still
        Io.trim(d, 0, MIB, false);
        Io.write(d, 20L * MIB, Io.filled(MIB, 6), false); // the pages trimmed, given again
        assertArrayEquals(Io.filled(MIB, 6), Io.read(d, 20L * MIB, MIB));
        assertEquals(8L * MIB, memory.mappedBytes());
    }

    @Test
    void aClosedDevicesSlabsComeBackOnceTheCollectorHasFoundThem() throws IOException {
        SlabMemory memory = new SlabMemory(8 * MIB);
        MemoryDevice first = new MemoryDevice(64 * MIB, memory);
        Io.write(first, 0, Io.filled(8 * MIB, 1), false);
        assertEquals(0, memory.awaitingBytes(), "slabs of a live device");
        first.close(); // its tree dropped: the slabs are unreachable, but mapped until collected
        assertEquals(8L * MIB, memory.awaitingBytes(), "the closed device's four slabs");
        MemoryDevice second = new MemoryDevice(64 * MIB, memory);
        Io.write(second, 16L * MIB, Io.filled(8 * MIB, 2), false); // waits for the collector at the limit
        assertArrayEquals(Io.filled(MIB, 2), Io.read(second, 23L * MIB, MIB));
        assertTrue(memory.mappedBytes() <= 8L * MIB, memory.mappedBytes() + " bytes mapped");
        assertEquals(0, memory.awaitingBytes(), "the four slabs unmapped, so that four more fit");
    }

    @Test
    void aWriteAtTheLimitFailsAtOnceWhenNoClosedDevicesSlabsAwaitTheCollector() throws IOException {
        SlabMemory memory = new SlabMemory(8 * MIB);
        MemoryDevice d = new MemoryDevice(64 * MIB, memory);
        Io.write(d, 0, Io.filled(8 * MIB, 3), false);
        DeviceException e = assertThrows(DeviceException.class, () -> Io.write(d, 8L * MIB, Io.filled(4096, 4), false));
        assertEquals(Errno.ENOSPC, e.errno());
        assertEquals(0, memory.collectorWaits(), "nothing the collector could free: no wait for it");
        assertEquals(1, memory.refusals());
    }

    @Test
    void slabsFilledLieOnHugePagesWhereTheSystemGivesThemToThoseWhoAsk() throws IOException {
        Path setting = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        String thp = Files.exists(setting) ? Files.readString(setting).strip() : "absent";
        assumeTrue(
                thp.contains("[always]") || thp.contains("[madvise]"),
                "transparent huge pages are off on this system (" + setting + ": " + thp + ")");
        SlabMemory memory = new SlabMemory(1L << 30);
        MemoryDevice d = new MemoryDevice(64 * MIB, memory::slab);
        long before = anonHugeKib();
        writeMiBs(d, 16);
        long grown = anonHugeKib() - before;
        // Eight slabs; the kernel may fall back to small pages where it finds no free huge one.
        assertTrue(grown >= 4096, "anonymous huge pages grew by " + grown + " KiB for 16 MiB of pages");
        assertArrayEquals(Io.filled(MIB, 9), Io.read(d, 8L * MIB, MIB));
    }

    @Test
    void aSlabsPagesAreMadeWhenItIsMappedNotOneFaultAtATime() throws Throwable {
        assumeTrue(Libc.canMap(), "mmap cannot be called here: slabs come from the JVM's allocator");
        MemorySegment populated = new SlabMemory(1L << 30, false, true, NO_RESERVE).slab();
        assertEquals(SLAB_PAGES, residentPages(populated), "4 KiB pages of a fresh slab resident");
        MemorySegment lazy = new SlabMemory(1L << 30, false, false, NO_RESERVE).slab();
        assertEquals(0, residentPages(lazy), "pages of a slab mapped without populating");
        lazy.set(ValueLayout.JAVA_BYTE, 5 * 4096L, (byte) 1);
        assertEquals(1, residentPages(lazy), "after one byte written");
    }

    @Test
    void pagesWhoseMemoryWentBackAreMadeARunAtATimeWhenTakenAgain() throws Throwable {
        assumeTrue(Libc.canMap() && Libc.canAdvise(), "mmap or madvise cannot be called here");
        assumeTrue(SlabMemory.POPULATE, "-Dfaultdisk.memory.populate=false");
        SlabMemory memory = new SlabMemory(1L << 30, false, true, NO_RESERVE);
        List<MemorySegment> slabs = new ArrayList<>();
        MemoryDevice d = new MemoryDevice(64 * MIB, () -> {
            MemorySegment slab = memory.slab();
            slabs.add(slab);
            return slab;
        });
        Io.write(d, 0, Io.filled(32 * MIB, 7), false);
        assertEquals(16 * SLAB_PAGES, residentPages(slabs), "16 slabs made whole");
        Io.trim(d, 0, 32 * MIB, false);
        assertEquals(0, d.pageMemoryBytes());
        assertEquals(0, residentPages(slabs), "every page's memory given back");
        Io.write(d, 40L * MIB, Io.filled(4096, 8), false);
        assertEquals(SLAB_PAGES, residentPages(slabs), "the run the page taken starts, to its slab's end");
        Io.write(d, 41L * MIB, Io.filled(MIB, 9), false);
        assertEquals(SLAB_PAGES, residentPages(slabs), "the next 256 pages taken from that run");
        assertEquals(SLAB_PAGES * 4096L, d.pageMemoryBytes(), "the pages made ahead of being taken held");
        assertEquals(residentPages(slabs) * 4096L, d.pageMemoryBytes(), "as the system counts them");
        assertArrayEquals(Io.filled(MIB, 9), Io.read(d, 41L * MIB, MIB));
        assertArrayEquals(Io.filled(4096, 8), Io.read(d, 40L * MIB, 4096));
        assertArrayEquals(new byte[MIB], Io.read(d, 0, MIB), "trimmed");
    }

    @Test
    void aSlabIsRefusedWhileTheSystemHasLessThanTheReserveAvailable() throws IOException {
        AtomicLong available = new AtomicLong(80L * MIB);
        AtomicInteger readings = new AtomicInteger();
        SystemReserve reserve = new SystemReserve(64L * MIB, () -> {
            readings.incrementAndGet();
            return available.get();
        });
        SlabMemory memory = new SlabMemory(1L << 30, false, false, reserve);
        MemoryDevice d = new MemoryDevice(64 * MIB, memory::slab);
        Io.write(d, 0, Io.filled(4 * MIB, 1), false); // two slabs: 76 MiB left
        available.set(65L * MIB); // another process took memory
        int before = readings.get();
        DeviceException e = assertThrows(DeviceException.class, () -> Io.write(d, 8L * MIB, Io.filled(4096, 2), false));
        assertEquals(before + 1, readings.get(), "refused at once, not after waiting for the collector");
        assertEquals(Errno.ENOSPC, e.errno());
        assertTrue(
                e.getMessage().contains("65 MiB of memory available")
                        && e.getMessage().contains("64 MiB")
                        && e.getMessage().contains("--memory-reserve"),
                e.getMessage());
        assertEquals(4L * MIB, memory.mappedBytes(), "nothing mapped for the refused write");
        assertEquals(1, memory.refusals());
        Io.write(d, 4096, Io.filled(4096, 3), false); // a page held takes writes still
        available.set(200L * MIB);
        Io.write(d, 8L * MIB, Io.filled(4096, 4), false); // memory back: slabs again
        assertArrayEquals(Io.filled(4096, 4), Io.read(d, 8L * MIB, 4096));
        memory.systemReserve(0);
        available.set(0);
        Io.write(d, 16L * MIB, Io.filled(4 * MIB, 5), false); // the reserve off
        assertArrayEquals(Io.filled(4 * MIB, 5), Io.read(d, 16L * MIB, 4 * MIB));
    }

    @Test
    void farFromTheReserveTheSystemIsAskedOnceEvery32MibOfSlabs() throws IOException {
        AtomicInteger readings = new AtomicInteger();
        SystemReserve reserve = new SystemReserve(64L * MIB, () -> {
            readings.incrementAndGet();
            return 16L << 30;
        });
        MemoryDevice d = new MemoryDevice(256 * MIB, new SlabMemory(1L << 30, false, false, reserve)::slab);
        writeMiBs(d, 128); // 64 slabs
        assertTrue(readings.get() >= 4 && readings.get() <= 5, readings.get() + " readings for 128 MiB of slabs");
    }

    @Test
    void theReserveReadsWhatThisSystemHasAvailable() throws IOException {
        long available = SystemReserve.memAvailable();
        assumeTrue(available > 0, "/proc/meminfo gives no MemAvailable here");
        SlabMemory memory = new SlabMemory(
                1L << 30, false, false, new SystemReserve(available + (1L << 40), SystemReserve::memAvailable));
        MemoryDevice d = new MemoryDevice(64 * MIB, memory::slab);
        DeviceException e = assertThrows(DeviceException.class, () -> Io.write(d, 0, Io.filled(4096, 1), false));
        assertEquals(Errno.ENOSPC, e.errno());
        assertTrue(e.getMessage().contains("of memory available"), e.getMessage());
        memory.systemReserve(64L * MIB);
        Io.write(d, 0, Io.filled(4096, 1), false); // this machine has 64 MiB to spare
    }

    @Test
    void aLimitBelowOneSlabIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SlabMemory(MIB));
        assertTrue(e.getMessage().contains("at least 2 MiB"), e.getMessage());
        assertTrue(SlabMemory.process().limit() >= 2 * MIB);
    }

    /** Writes the first {@code count} MiB of {@code d}, MiB i filled with i + 1. */
    private static int residentPages(List<MemorySegment> slabs) throws Throwable {
        int resident = 0;
        for (MemorySegment slab : slabs) {
            resident += residentPages(slab);
        }
        return resident;
    }

    /** The pages of {@code slab} in memory, as mincore(2) tells. */
    private static int residentPages(MemorySegment slab) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle mincore = linker.downcallHandle(
                linker.defaultLookup().find("mincore").orElseThrow(),
                FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vector = arena.allocate(SLAB_PAGES);
            assertEquals(0, (int) mincore.invokeExact(slab, slab.byteSize(), vector), "mincore");
            int resident = 0;
            for (int i = 0; i < SLAB_PAGES; i++) {
                resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
            return resident;
        }
    }

    private static void writeMiBs(MemoryDevice d, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            Io.write(d, (long) i * MIB, Io.filled(MIB, i + 1), false);
        }
    }

    /** The process's anonymous memory on huge pages, in KiB. */
    private static long anonHugeKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
            if (line.startsWith("AnonHugePages:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no AnonHugePages in /proc/self/smaps_rollup");
    }

    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct"))
                .mapToLong(BufferPoolMXBean::getMemoryUsed)
                .sum();
    }
}
