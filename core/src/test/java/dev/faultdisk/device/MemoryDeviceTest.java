package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sparse memory backend: memory follows the data written, not the size. */
class MemoryDeviceTest {
    private static final long TIB = 1L << 40;

    @Test
    void oneTebibyteStartsEmptyAndGrowsWithDataWritten() throws IOException {
        // Sixteen of them in a test JVM of 2 GiB: none may hold memory in proportion to its size.
        List<MemoryDevice> devices = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            devices.add(new MemoryDevice(TIB));
        }
        MemoryDevice d = devices.getFirst();
        assertEquals(TIB, d.size());
        assertEquals(0, d.allocatedBytes());

        Io.write(d, TIB - 1, ByteBuffer.wrap(new byte[] {9}), false);
        Io.write(d, TIB / 2, ByteBuffer.wrap(new byte[] {8}), false);
        assertEquals(2L * MemoryDevice.CHUNK, d.allocatedBytes());
        Io.write(d, 0, ByteBuffer.wrap(new byte[1 << 20]), false);
        assertEquals(2L * MemoryDevice.CHUNK + (1 << 20), d.allocatedBytes());

        ByteBuffer last = ByteBuffer.allocate(2);
        Io.read(d, TIB - 2, last);
        assertArrayEquals(new byte[] {0, 9}, last.array());
        ByteBuffer far = ByteBuffer.allocate(4096);
        Io.read(d, TIB / 4, far);
        assertArrayEquals(new byte[4096], far.array());

        // Freeing whole chunks gives the memory back; partial zeroing keeps the chunk.
        Io.trim(d, 0, 1 << 20, false);
        Io.writeZeroes(d, TIB / 2, MemoryDevice.CHUNK, false, true, false);
        assertEquals(MemoryDevice.CHUNK, d.allocatedBytes());
        Io.writeZeroes(d, TIB - 1, 1, false, false, false);
        assertEquals(MemoryDevice.CHUNK, d.allocatedBytes());

        int[] extents = {0};
        long[] covered = {0};
        Io.extents(d, 0, TIB, (length, flags) -> {
            extents[0]++;
            covered[0] += length;
            return true;
        });
        assertEquals(TIB, covered[0]);
        assertTrue(extents[0] <= 3, "a nearly empty device has few extents: " + extents[0]);
        devices.forEach(MemoryDevice::close);
    }

    /**
     * Zeroes that must keep their pages (NO_HOLE) keep written pages allocated to block status,
     * which says they read as zeroes, and cost no memory (one page shared by every such slot); a
     * write there gets a page of its own, and the shared one stays zeroes. Pages never written
     * stay missing: NO_HOLE creates no hole, and they are one already.
     */
    @Test
    void noHoleZeroesStayAllocatedWithoutMemory() throws IOException {
        int chunk = MemoryDevice.CHUNK;
        MemoryDevice d = new MemoryDevice(1L << 40);
        Io.write(d, 0, ByteBuffer.wrap(Io.filled(64 * chunk, 7)), false);
        long index = d.indexBytes();
        Io.writeZeroes(d, 0, 3L << 30, true, false, false); // 3 GiB from one request, over 256 KiB written
        assertEquals(0, d.allocatedBytes(), "the written pages given back, no page for the zeroes");
        assertEquals(index, d.indexBytes(), "and no index for the pages never written");
        List<List<Long>> extents = new ArrayList<>();
        Io.extents(d, 0, 4L << 30, (length, f) -> extents.add(List.of(length, (long) f)));
        assertEquals(
                List.of(List.of(64L * chunk, (long) ExtentSink.ZERO), List.of((4L << 30) - 64L * chunk, 3L)), extents);
        assertArrayEquals(new byte[2 * chunk], read(d, 0, 2 * chunk));

        Io.write(d, chunk + 100, ByteBuffer.wrap(Io.filled(10, 9)), false);
        assertEquals(chunk, d.allocatedBytes());
        byte[] expected = new byte[3 * chunk];
        java.util.Arrays.fill(expected, chunk + 100, chunk + 110, (byte) 9);
        assertArrayEquals(expected, read(d, 0, 3 * chunk), "the write in a page of its own, the rest zeroes");
        Io.writeZeroes(d, chunk + 104, 2, true, false, false); // part of a page: zeroed in the page
        expected[chunk + 104] = 0;
        expected[chunk + 105] = 0;
        assertArrayEquals(expected, read(d, 0, 3 * chunk));
        Io.writeZeroes(d, 0, 3L << 30, false, false, false); // may punch: holes again
        assertEquals(0, d.allocatedBytes());
        int[] flags = {-1};
        Io.extents(d, 0, chunk, (length, f) -> {
            flags[0] = f;
            return false;
        });
        assertEquals(ExtentSink.HOLE | ExtentSink.ZERO, flags[0]);
    }

    private static byte[] read(BlockDevice d, long offset, int length) throws IOException {
        ByteBuffer back = ByteBuffer.allocate(length);
        Io.read(d, offset, back);
        return back.array();
    }

    @Test
    void sizesOutOfRangeAreRefusedClearly() throws IOException {
        for (long bad : new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 65535, 1L << 62}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MemoryDevice(bad));
            assertTrue(e.getMessage().contains("memory device size"), e.getMessage());
        }
        assertEquals(0, new MemoryDevice(0).size());
        assertThrows(IllegalArgumentException.class, () -> new MemoryDevice(MemoryDevice.MAX_SIZE + 1));
    }

    @Test
    void largestSizeWorksUpToItsLastByte() throws IOException {
        MemoryDevice d = new MemoryDevice(MemoryDevice.MAX_SIZE);
        Io.write(d, MemoryDevice.MAX_SIZE - 3, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
        ByteBuffer back = ByteBuffer.allocate(3);
        Io.read(d, MemoryDevice.MAX_SIZE - 3, back);
        assertArrayEquals(new byte[] {1, 2, 3}, back.array());
        assertEquals(MemoryDevice.CHUNK, d.allocatedBytes());
        d.close();
    }

    @Test
    void oddSizesReadAndWriteUpToTheLastByte() throws IOException {
        MemoryDevice d = new MemoryDevice(MemoryDevice.CHUNK + 3);
        byte[] data = {1, 2, 3, 4, 5};
        Io.write(d, MemoryDevice.CHUNK - 2, ByteBuffer.wrap(data), false);
        ByteBuffer back = ByteBuffer.allocate(5);
        Io.read(d, MemoryDevice.CHUNK - 2, back);
        assertArrayEquals(data, back.array());
        long[] covered = {0};
        Io.extents(d, 0, d.size(), (length, flags) -> {
            covered[0] += length;
            return true;
        });
        assertEquals(d.size(), covered[0]);
    }

    @Test
    void sixteenTebibytesWrittenAtRandomCostMemoryInProportionToTheData() throws IOException {
        long size = 16 * TIB;
        MemoryDevice d = new MemoryDevice(size);
        java.util.SplittableRandom random = new java.util.SplittableRandom(17);
        java.util.TreeMap<Long, Byte> written = new java.util.TreeMap<>();
        byte[] page = new byte[4096];
        while (written.size() < 4096) {
            long offset = random.nextLong(size / 4096) * 4096;
            byte value = (byte) random.nextInt(1, 256);
            java.util.Arrays.fill(page, value);
            Io.write(d, offset, ByteBuffer.wrap(page), false);
            written.put(offset, value);
        }
        long data = 4096L * 4096;
        assertEquals(data, d.allocatedBytes());
        assertEquals(data, d.pageMemoryBytes(), "pages carved side by side from slabs, none spare");
        // Every page in a subtree of its own is the worst case for the index: at most 4 small nodes each.
        assertTrue(d.indexBytes() < data / 8, "index of " + d.indexBytes() + " bytes for " + data + " of data");

        for (var e : written.entrySet()) {
            ByteBuffer back = ByteBuffer.allocate(4096);
            Io.read(d, e.getKey(), back);
            byte[] expected = new byte[4096];
            java.util.Arrays.fill(expected, e.getValue());
            assertArrayEquals(expected, back.array(), "page at " + e.getKey());
        }

        // Block status over the whole disk: one data extent per page, holes between, nothing missed.
        List<long[]> extents = new ArrayList<>();
        Io.extents(d, 0, size, (length, flags) -> {
            extents.add(new long[] {length, flags});
            return true;
        });
        long pos = 0;
        List<Long> data4k = new ArrayList<>();
        for (long[] x : extents) {
            if ((x[1] & ExtentSink.HOLE) == 0) {
                assertEquals(4096, x[0], "a data extent at " + pos);
                data4k.add(pos);
            }
            pos += x[0];
        }
        assertEquals(size, pos);
        assertEquals(List.copyOf(written.keySet()), data4k);

        // Trimming all of it gives the pages back, and their memory to the system (16 MiB of free
        // pages is the batch it goes back in); a page written next is one of them, read as written.
        Io.trim(d, 0, size, false);
        assertEquals(0, d.allocatedBytes());
        assertEquals(0, d.pageMemoryBytes(), "the free pages' memory given back");
        Io.write(d, size - 4096, ByteBuffer.wrap(page), false);
        long held = d.pageMemoryBytes();
        assertTrue(
                held >= 4096 && held <= 2 << 20,
                "a page given back, taken again, made with the rest of its run: " + held);
        assertArrayEquals(page, Io.read(d, size - 4096, 4096));
        d.close();
    }

    /**
     * The views a frontend sends hold exactly the bytes a read gives: across pages written, never
     * written, zeroed in place and partly zeroed, from any offset, cut at the array's room; a range
     * of pages none of which holds data says so (negative), the frontend's cue for a hole. Each page
     * with data a view covers is pinned until released.
     */
    @Test
    void viewsHoldWhatAReadGives() throws IOException {
        java.util.Random random = new java.util.Random(0x5ea1);
        MemoryDevice d = new MemoryDevice(1 << 20);
        byte[] data = new byte[256 << 10];
        random.nextBytes(data);
        Io.write(d, 64 << 10, data, false);
        Io.writeZeroes(d, 128 << 10, 16 << 10, true, false, false); // whole pages kept as zeroes
        Io.writeZeroes(d, (200 << 10) + 100, 5000, false, false, false); // partly within pages
        ByteBuffer[] views = new ByteBuffer[80];
        PagePins pins = new PagePins();
        for (int i = 0; i < 2000; i++) {
            long offset = random.nextLong(1 << 20);
            long length = 1 + random.nextLong((1 << 20) - offset);
            int from = random.nextInt(3);
            int n = d.views(offset, length, views, from, pins);
            ByteBuffer gathered = ByteBuffer.allocate((int) length);
            for (int v = from; v < from + Math.abs(n); v++) {
                gathered.put(views[v].duplicate());
            }
            int covered = gathered.position();
            long spanned = (offset % 4096 + covered + 4095) / 4096;
            assertTrue(covered == length || from + Math.abs(n) == views.length, "the range, or as many views as fit");
            assertTrue(Math.abs(n) <= spanned, n + " views for " + spanned + " pages");
            long written = pagesWritten(offset, covered);
            assertEquals(written, pins.count(), "a pin for each page with data at " + offset + " +" + covered);
            byte[] expected = Io.read(d, offset, covered);
            assertArrayEquals(expected, java.util.Arrays.copyOf(gathered.array(), covered), "at " + offset);
            assertEquals(written > 0, n > 0, "sign at " + offset + " +" + covered);
            d.release(pins);
            assertEquals(0, pins.count());
        }
        // Pages written in one go lie side by side: one view for all of them.
        assertEquals(1, d.views(64 << 10, 64 << 10, views, 0, pins));
        assertEquals(16, pins.count());
        d.release(pins);
        // Two pages written now get pages the NO_HOLE zeroing freed, handed back last first: apart.
        Io.write(d, 512 << 10, Io.filled(8192, 3), false);
        assertEquals(2, d.views(512 << 10, 8 << 10, views, 0, pins));
        assertEquals(2, pins.count());
        d.release(pins);
        assertEquals(64L * 4096 - 4 * 4096 + 8192, d.allocatedBytes());
        assertEquals(2 << 20, d.pageMemoryBytes(), "no page carved anew");
    }

    /** Pages holding data among those {@link #viewsHoldWhatAReadGives} wrote, over a range. */
    private static long pagesWritten(long offset, long length) {
        long first = offset / 4096;
        long last = (offset + length - 1) / 4096;
        long count = 0;
        for (long p = first; p <= last; p++) {
            boolean data = p >= 16 && p < 80 && !(p >= 32 && p < 36);
            count += data ? 1 : 0;
        }
        return count;
    }

    /**
     * A page trimmed while a frontend still sends it is not given to another block until the
     * frontend lets it go, and is given then (no memory grows with trims and writes).
     */
    @Test
    void aTrimmedPageStillBeingSentIsReusedOnlyWhenLetGo() throws IOException {
        MemoryDevice d = new MemoryDevice(4 << 20);
        Io.write(d, 0, Io.filled(4096, 0x11), false);
        Io.write(d, 4096, Io.filled(4096, 0x22), false);
        ByteBuffer[] views = new ByteBuffer[1];
        PagePins pins = new PagePins();
        assertEquals(1, d.views(0, 4096, views, 0, pins));
        ByteBuffer sent = views[0];
        Io.trim(d, 0, 4096, false);
        Io.write(d, 8192, Io.filled(4096, 0x33), false);
        assertArrayEquals(Io.filled(4096, 0x11), bytes(sent), "the page being sent kept its bytes");
        d.release(pins);
        Io.write(d, 12288, Io.filled(4096, 0x44), false);
        assertArrayEquals(Io.filled(4096, 0x44), bytes(sent), "let go, the page went to the next write");
        assertArrayEquals(new byte[4096], Io.read(d, 0, 4096));
        assertArrayEquals(Io.filled(4096, 0x33), Io.read(d, 8192, 4096));
        assertEquals(3L * 4096, d.allocatedBytes());
        assertEquals(2 << 20, d.pageMemoryBytes(), "one slab");
        // A partial write to a reused page sees zeroes around it, not the page's last life.
        Io.trim(d, 12288, 4096, false);
        Io.write(d, 16384 + 100, Io.filled(10, 0x55), false);
        byte[] expected = new byte[4096];
        java.util.Arrays.fill(expected, 100, 110, (byte) 0x55);
        assertArrayEquals(expected, Io.read(d, 16384, 4096));
    }

    /**
     * Trimmed pages' memory goes back to the system where they lie in runs (64 KiB and more side by
     * side); pages freed one here, one there stay for the next writes until their neighbours follow.
     */
    @Test
    void trimsGiveMemoryBackWherePagesFreedLieSideBySide() throws IOException {
        MemoryDevice d = new MemoryDevice(64 << 20);
        Io.write(d, 0, Io.filled(32 << 20, 0x61), false); // 8,192 pages, side by side in 16 slabs
        assertEquals(32 << 20, d.pageMemoryBytes());
        for (long at = 0; at < 32 << 20; at += 8192) {
            Io.trim(d, at, 4096, false);
        }
        assertEquals(16 << 20, d.allocatedBytes());
        assertEquals(32 << 20, d.pageMemoryBytes(), "every other page: kept for reuse");
        for (long at = 4096; at < 32 << 20; at += 8192) {
            Io.trim(d, at, 4096, false);
        }
        assertEquals(0, d.allocatedBytes());
        assertEquals(0, d.pageMemoryBytes(), "their neighbours freed too: all of it given back");
        Io.write(d, 40 << 20, Io.filled(8192, 0x62), false);
        assertEquals(
                SlabMemory.POPULATE ? 2 << 20 : 8192,
                d.pageMemoryBytes(),
                "the run of returned pages from the first one taken made at once: its slab");
        assertEquals(1, d.views(40 << 20, 8192, new ByteBuffer[2], 0, new PagePins()), "taken again in order");
        assertArrayEquals(Io.filled(8192, 0x62), Io.read(d, 40 << 20, 8192));
        assertArrayEquals(new byte[4096], Io.read(d, 0, 4096));
    }

    /**
     * Returned pages made again at once, ahead of being taken, hold memory: they count as held until
     * taken, and are taken before pages that went back to the system after them.
     */
    @Test
    void returnedPagesMadeAheadOfBeingTakenCountAsHeld() throws IOException {
        assumeTrue(Libc.canAdvise(), "madvise cannot be called here");
        assumeTrue(SlabMemory.POPULATE, "-Dfaultdisk.memory.populate=false");
        MemoryDevice d = new MemoryDevice(64 << 20);
        Io.write(d, 0, Io.filled(32 << 20, 0x61), false); // 16 slabs, full
        Io.trim(d, 0, 32 << 20, false);
        assertEquals(0, d.pageMemoryBytes(), "all of it given back");
        Io.write(d, 40 << 20, Io.filled(8192, 0x62), false);
        assertEquals(2 << 20, d.pageMemoryBytes(), "a slab's run made at once");
        Io.write(d, 48 << 20, Io.filled(8192, 0x63), false);
        assertEquals(2 << 20, d.pageMemoryBytes(), "taken from the run made: not counted twice");
        Io.write(d, 0, Io.filled(16 << 20, 0x64), false); // the run's 508 left, 7 slabs, 4 pages of a ninth
        assertEquals(18 << 20, d.pageMemoryBytes());
        Io.trim(d, 0, 16 << 20, false); // 4,096 pages freed: back to the system but the ninth slab's 4
        assertEquals(
                (2 << 20) + 16384, d.pageMemoryBytes(), "the ninth slab's 508 made, 4 pages with data, 4 free ones");
        Io.write(d, 56 << 20, Io.filled(2 << 20, 0x65), false);
        assertEquals(
                (2 << 20) + 16384,
                d.pageMemoryBytes(),
                "the 4 free pages, then the 508 made ahead, before any returned after them: none made anew");
        Io.write(d, 60 << 20, Io.filled(4096, 0x66), false);
        assertEquals(4 << 20, d.pageMemoryBytes(), "a returned page taken now makes its run: 517 with data, 507 made");
        assertArrayEquals(Io.filled(4096, 0x66), Io.read(d, 60 << 20, 4096));
        assertArrayEquals(Io.filled(2 << 20, 0x65), Io.read(d, 56 << 20, 2 << 20));
        assertArrayEquals(Io.filled(8192, 0x63), Io.read(d, 48 << 20, 8192));
        assertArrayEquals(new byte[8192], Io.read(d, 0, 8192));
    }

    /** Closing a device gives its memory back at once, not when the collector next runs. */
    @Test
    void closingGivesTheMemoryBackAtOnce() throws IOException {
        MemoryDevice d = new MemoryDevice(128 << 20);
        Io.write(d, 0, Io.filled(64 << 20, 0x71), false);
        long written = residentBytes();
        d.close();
        long closed = residentBytes();
        assertTrue(written - closed > 48 << 20, "resident " + written + " bytes written, " + closed + " closed");
        assertArrayEquals(new byte[4096], Io.read(d, 0, 4096));
        Io.write(d, 0, Io.filled(4096, 0x72), false); // a new tree: written and read as ever
        assertArrayEquals(Io.filled(4096, 0x72), Io.read(d, 0, 4096));
    }

    private static long residentBytes() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static byte[] bytes(ByteBuffer view) {
        byte[] b = new byte[view.remaining()];
        view.duplicate().get(b);
        return b;
    }

    /**
     * Writes, trims, zeroings, reads and views at once over a few pages, so that pages are freed and
     * given again all the time: every page's bytes are its own index's or zeroes, whatever was
     * racing; a page given to another block while still read, written or sent would show another
     * index's bytes.
     */
    @Test
    void pagesFreedUnderRacingAccessesNeverShowAnotherBlocksBytes() throws Exception {
        int pages = 16;
        MemoryDevice d = new MemoryDevice((long) pages * 4096);
        java.util.concurrent.atomic.AtomicReference<String> wrong = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger views = new java.util.concurrent.atomic.AtomicInteger();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                java.util.SplittableRandom random = new java.util.SplittableRandom(id);
                ByteBuffer[] held = new ByteBuffer[4];
                PagePins pins = new PagePins();
                try {
                    for (int i = 0; i < 40_000 && wrong.get() == null; i++) {
                        int page = random.nextInt(pages);
                        long at = (long) page * 4096;
                        switch (random.nextInt(5)) {
                            case 0 -> Io.write(d, at + random.nextInt(2048), Io.filled(2048, mark(page)), false);
                            case 1 -> Io.trim(d, at, 4096, false);
                            case 2 -> Io.writeZeroes(d, at, 4096, random.nextBoolean(), false, false);
                            case 3 -> check(Io.read(d, at, 4096), page, wrong);
                            default -> {
                                int n = Math.abs(d.views(at, page + 1 < pages ? 8192 : 4096, held, 0, pins));
                                views.addAndGet(n);
                                Thread.onSpinWait();
                                int seen = page;
                                for (int v = 0; v < n; v++) {
                                    byte[] b = bytes(held[v]);
                                    for (int k = 0; k < b.length; k += 4096) {
                                        check(java.util.Arrays.copyOfRange(b, k, k + 4096), seen++, wrong);
                                    }
                                }
                                d.release(pins);
                            }
                        }
                    }
                } catch (IOException e) {
                    wrong.compareAndSet(null, e.toString());
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(null, wrong.get());
        assertTrue(views.get() > 0);
        assertTrue(d.pageMemoryBytes() <= 2 << 20, "freed pages reused: " + d.pageMemoryBytes());
    }

    private static int mark(int page) {
        return 0x10 + page;
    }

    private static void check(byte[] b, int page, java.util.concurrent.atomic.AtomicReference<String> wrong) {
        for (int k = 0; k < b.length; k++) {
            if (b[k] != 0 && b[k] != (byte) mark(page)) {
                wrong.compareAndSet(null, "page " + page + " byte " + k + " holds " + b[k]);
                return;
            }
        }
    }

    /**
     * Memory spent: a write fails with ENOSPC at the first page it needs anew (the pages it held
     * before that took their part, as a disk's failed write may have), writes to pages held go on,
     * a page freed is given again, and reads see every byte written.
     */
    @Test
    void aWriteWithNoMemoryLeftFailsWithEnospc() throws IOException {
        int[] left = {1};
        MemoryDevice d = new MemoryDevice(4 << 20, () -> {
            if (left[0]-- <= 0) {
                throw new OutOfMemoryError("Cannot reserve 2097152 bytes of direct buffer memory");
            }
            return java.lang.foreign.Arena.ofAuto().allocate(2 << 20, 4096);
        });
        Io.write(d, 0, Io.filled(2 << 20, 7), false); // the one slab, full
        DeviceException e =
                assertThrows(DeviceException.class, () -> Io.write(d, (2 << 20) - 4096, Io.filled(8192, 8), false));
        assertEquals(dev.faultdisk.wire.Errno.ENOSPC, e.errno());
        assertTrue(e.getMessage().contains("memory export full"), e.getMessage());
        Io.write(d, 100, Io.filled(10, 9), false);
        byte[] expected = Io.filled(12288, 7);
        java.util.Arrays.fill(expected, 100, 110, (byte) 9);
        assertArrayEquals(expected, Io.read(d, 0, 12288));
        byte[] tail = Io.filled(8192, 0);
        java.util.Arrays.fill(tail, 0, 4096, (byte) 8); // the page held took its part of the write
        assertArrayEquals(tail, Io.read(d, (2 << 20) - 4096, 8192));
        assertEquals(2 << 20, d.allocatedBytes());
        Io.trim(d, 0, 4096, false);
        Io.write(d, 3 << 20, Io.filled(4096, 6), false); // the page trimmed, given again
        assertArrayEquals(Io.filled(4096, 6), Io.read(d, 3 << 20, 4096));
        d.close(); // the data goes, and with it every page
        assertEquals(0, d.allocatedBytes());
        assertEquals(0, d.pageMemoryBytes());
        assertArrayEquals(new byte[4096], Io.read(d, 3 << 20, 4096));
    }
}
