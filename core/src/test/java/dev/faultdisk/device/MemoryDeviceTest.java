package dev.faultdisk.device;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sparse memory backend: memory follows the data written, not the size. */
class MemoryDeviceTest {
    private static final long TIB = 1L << 40;

    @Test
    void oneTebibyteStartsEmptyAndGrowsWithDataWritten() {
        // Sixteen of them in a test JVM of 2 GiB: none may hold memory in proportion to its size.
        List<MemoryDevice> devices = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            devices.add(new MemoryDevice(TIB));
        }
        MemoryDevice d = devices.getFirst();
        assertEquals(TIB, d.size());
        assertEquals(0, d.allocatedBytes());

        d.write(TIB - 1, ByteBuffer.wrap(new byte[] {9}), false);
        d.write(TIB / 2, ByteBuffer.wrap(new byte[] {8}), false);
        assertEquals(2L * MemoryDevice.CHUNK, d.allocatedBytes());
        d.write(0, ByteBuffer.wrap(new byte[1 << 20]), false);
        assertEquals(2L * MemoryDevice.CHUNK + (1 << 20), d.allocatedBytes());

        ByteBuffer last = ByteBuffer.allocate(2);
        d.read(TIB - 2, last);
        assertArrayEquals(new byte[] {0, 9}, last.array());
        ByteBuffer far = ByteBuffer.allocate(4096);
        d.read(TIB / 4, far);
        assertArrayEquals(new byte[4096], far.array());

        // Freeing whole chunks gives the memory back; partial zeroing keeps the chunk.
        d.trim(0, 1 << 20, false);
        d.writeZeroes(TIB / 2, MemoryDevice.CHUNK, false, true, false);
        assertEquals(MemoryDevice.CHUNK, d.allocatedBytes());
        d.writeZeroes(TIB - 1, 1, false, false, false);
        assertEquals(MemoryDevice.CHUNK, d.allocatedBytes());

        int[] extents = {0};
        long[] covered = {0};
        d.extents(0, TIB, (length, flags) -> {
            extents[0]++;
            covered[0] += length;
            return true;
        });
        assertEquals(TIB, covered[0]);
        assertTrue(extents[0] <= 3, "a nearly empty device has few extents: " + extents[0]);
        devices.forEach(MemoryDevice::close);
    }

    @Test
    void noHoleZeroesStayAllocated() {
        MemoryDevice d = new MemoryDevice(4L * MemoryDevice.CHUNK);
        d.writeZeroes(0, 2L * MemoryDevice.CHUNK, true, false, false);
        assertEquals(2L * MemoryDevice.CHUNK, d.allocatedBytes());
        int[] flags = {-1};
        d.extents(0, MemoryDevice.CHUNK, (length, f) -> {
            flags[0] = f;
            return false;
        });
        assertEquals(0, flags[0] & ExtentSink.HOLE, "NO_HOLE zeroes are not a hole");
    }

    @Test
    void sizesOutOfRangeAreRefusedClearly() {
        for (long bad : new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 65535, 1L << 62}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MemoryDevice(bad));
            assertTrue(e.getMessage().contains("memory device size"), e.getMessage());
        }
        assertEquals(0, new MemoryDevice(0).size());
        assertThrows(IllegalArgumentException.class, () -> new MemoryDevice(MemoryDevice.MAX_SIZE + 1));
    }

    @Test
    void largestSizeWorksUpToItsLastByte() {
        MemoryDevice d = new MemoryDevice(MemoryDevice.MAX_SIZE);
        d.write(MemoryDevice.MAX_SIZE - 3, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
        ByteBuffer back = ByteBuffer.allocate(3);
        d.read(MemoryDevice.MAX_SIZE - 3, back);
        assertArrayEquals(new byte[] {1, 2, 3}, back.array());
        assertEquals(MemoryDevice.CHUNK, d.allocatedBytes());
        d.close();
    }

    @Test
    void oddSizesReadAndWriteUpToTheLastByte() {
        MemoryDevice d = new MemoryDevice(MemoryDevice.CHUNK + 3);
        byte[] data = {1, 2, 3, 4, 5};
        d.write(MemoryDevice.CHUNK - 2, ByteBuffer.wrap(data), false);
        ByteBuffer back = ByteBuffer.allocate(5);
        d.read(MemoryDevice.CHUNK - 2, back);
        assertArrayEquals(data, back.array());
        long[] covered = {0};
        d.extents(0, d.size(), (length, flags) -> {
            covered[0] += length;
            return true;
        });
        assertEquals(d.size(), covered[0]);
    }
}
