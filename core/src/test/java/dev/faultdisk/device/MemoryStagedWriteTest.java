package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A memory device reads a staged payload (a pipe's) straight into its pages, one run of pages
 * side by side at a time: the bytes land exactly wherever the pages lie, and a payload that fails
 * or memory that runs out midway leaves no page pinned.
 */
class MemoryStagedWriteTest {
    private static final int MIB = 1 << 20;
    private static final int PAGE = 4096;

    /** A payload of {@code bytes}, taken by {@code readInto} only; it fails at read {@code failAt} (from 1). */
    private static final class Payload implements StagedPayload {
        private final ByteBuffer bytes;
        private final int failAt;
        private int reads;

        Payload(byte[] bytes, int failAt) {
            this.bytes = ByteBuffer.wrap(bytes);
            this.failAt = failAt;
        }

        Payload(byte[] bytes) {
            this(bytes, 0);
        }

        @Override
        public void writeTo(FileChannel file, int fd, long offset) {
            throw new AssertionError("a memory device has no file");
        }

        @Override
        public void readInto(ByteBuffer dst) throws IOException {
            if (++reads == failAt) {
                throw new IOException("the pipe ended early");
            }
            assertTrue(dst.isDirect(), "a page's own memory");
            assertTrue(dst.remaining() <= bytes.remaining(), "no more than the payload holds");
            int n = dst.remaining();
            dst.put(bytes.slice(bytes.position(), n));
            bytes.position(bytes.position() + n);
        }

        int left() {
            return bytes.remaining();
        }
    }

    private static boolean stage(MemoryDevice d, long offset, Payload p) throws IOException {
        return d.writeStaged(BlockRequest.of(BlockOp.WRITE, offset, p.bytes.remaining()), p);
    }

    private static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void pagesSideBySideTakeThePayloadInOneReadAndScatteredOnesAPageAtATime() throws IOException {
        MemoryDevice d = new MemoryDevice(64 * MIB);
        byte[] first = random(1, MIB);
        Payload p = new Payload(first);
        assertTrue(stage(d, 0, p), "taken");
        assertEquals(1, p.reads, "fresh pages are carved side by side: one run");
        assertEquals(0, p.left());
        assertArrayEquals(first, Io.read(d, 0, MIB));

        byte[] odd = random(2, 300_000); // starts and ends inside pages
        Payload q = new Payload(odd);
        assertTrue(stage(d, MIB + 100, q));
        assertEquals(1, q.reads);
        assertArrayEquals(odd, Io.read(d, MIB + 100, odd.length));
        assertArrayEquals(new byte[100], Io.read(d, MIB, 100), "the first page's head stays zero");

        long at = 40L * MIB;
        for (int i = 15; i >= 0; i--) { // pages given in the other order: none follows the one before
            Io.write(d, at + (long) i * PAGE, Io.filled(PAGE, 1), false);
        }
        byte[] over = random(3, 16 * PAGE);
        Payload r = new Payload(over);
        assertTrue(stage(d, at, r));
        assertEquals(16, r.reads, "a run a page");
        assertArrayEquals(over, Io.read(d, at, over.length));
        assertArrayEquals(first, Io.read(d, 0, MIB), "nothing else changed");
    }

    @Test
    void aPayloadThatFailsMidwayOrMemoryThatRunsOutLeavesNoPagePinned() throws IOException {
        MemoryDevice d = oneSlab();
        Io.write(d, 0, Io.filled(2 * MIB - 8 * PAGE, 1), false);
        long at = 8L * MIB;
        for (int i = 7; i >= 0; i--) { // the slab's last eight pages, none after the one before
            Io.write(d, at + (long) i * PAGE, Io.filled(PAGE, 2), false);
        }
        Payload failing = new Payload(random(4, 8 * PAGE), 3);
        IOException e = assertThrows(IOException.class, () -> stage(d, at, failing));
        assertEquals("the pipe ended early", e.getMessage());
        Io.trim(d, at, 8 * PAGE, false);
        // No slab is left: the write takes the eight pages freed, which a pin left behind would keep.
        Io.write(d, 30L * MIB, Io.filled(8 * PAGE, 3), false);
        assertArrayEquals(Io.filled(8 * PAGE, 3), Io.read(d, 30L * MIB, 8 * PAGE));

        MemoryDevice small = oneSlab();
        DeviceException full =
                assertThrows(DeviceException.class, () -> stage(small, 0, new Payload(random(5, 3 * MIB))));
        assertEquals(Errno.ENOSPC, full.errno());
        Io.trim(small, 0, 64 * MIB, false);
        Io.write(small, 10L * MIB, Io.filled(2 * MIB, 4), false); // the slab's every page free again
        assertArrayEquals(Io.filled(2 * MIB, 4), Io.read(small, 10L * MIB, 2 * MIB));
    }

    /** A device whose memory is one slab of 512 pages. */
    private static MemoryDevice oneSlab() {
        int[] left = {1};
        return new MemoryDevice(64 * MIB, () -> {
            if (left[0]-- <= 0) {
                throw new OutOfMemoryError("no slab left");
            }
            return java.lang.foreign.Arena.ofAuto().allocate(2 * MIB, PAGE);
        });
    }
}
