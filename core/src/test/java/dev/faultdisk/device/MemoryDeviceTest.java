package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

        // Trimming all of it gives the pages back.
        Io.trim(d, 0, size, false);
        assertEquals(0, d.allocatedBytes());
        d.close();
    }
}
