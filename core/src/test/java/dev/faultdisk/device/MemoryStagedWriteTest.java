package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
 * or memory that runs out midway leaves no page pinned. A payload received into its own pages
 * ({@link StagedPages}) is put in place instead.
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

    /** Pages staged for {@code bytes} at {@code offset} of {@code d}, filled with them. */
    private static StagedPages received(MemoryDevice d, long offset, byte[] bytes) {
        StagedPages pages = d.stagePages(offset, bytes.length);
        assertNotNull(pages, "pages to receive into");
        int at = 0;
        for (ByteBuffer view : pages.views()) {
            assertTrue(view.isDirect(), "a page's own memory");
            int n = view.remaining();
            view.put(bytes, at, n);
            at += n;
        }
        assertEquals(bytes.length, at, "the views hold the payload exactly");
        return pages;
    }

    /** Writes pages received at {@code offset}, then lets go of what the device did not take. */
    private static void writeReceived(MemoryDevice d, long offset, StagedPages pages, int length) throws IOException {
        try {
            assertTrue(d.writeStaged(BlockRequest.of(BlockOp.WRITE, offset, length), pages), "taken");
        } finally {
            pages.discard();
        }
    }

    /**
     * A payload received into the device's own pages: its whole pages take the place of those the
     * write covers, a partial page at either end is copied into the page there (its other bytes
     * kept), and the pages put out are taken again in order, so that writing the same place over
     * and over holds no more memory and always receives into one run of pages side by side.
     */
    @Test
    void pagesReceivedIntoTakeThePlaceOfThoseTheWriteCovers() throws IOException {
        MemoryDevice d = new MemoryDevice(64 * MIB);
        byte[] base = random(10, 4 * MIB);
        Io.write(d, 0, base, false);
        assertEquals(4 * MIB, d.allocatedBytes());

        byte[] whole = random(11, MIB);
        StagedPages pages = received(d, MIB, whole);
        assertEquals(1, pages.views().length, "fresh pages carved side by side");
        writeReceived(d, MIB, pages, MIB);
        System.arraycopy(whole, 0, base, MIB, MIB);
        assertArrayEquals(base, Io.read(d, 0, 4 * MIB));
        assertEquals(4 * MIB, d.allocatedBytes(), "the pages put out are no longer the device's");

        byte[] odd = random(12, 300_000); // starts and ends inside pages
        writeReceived(d, 2 * MIB + 100, received(d, 2 * MIB + 100, odd), odd.length);
        System.arraycopy(odd, 0, base, 2 * MIB + 100, odd.length);
        assertArrayEquals(base, Io.read(d, 0, 4 * MIB), "the partial pages' other bytes kept");

        byte[] fresh = random(13, MIB); // over pages never written: they come into being
        writeReceived(d, 40L * MIB, received(d, 40L * MIB, fresh), MIB);
        assertArrayEquals(fresh, Io.read(d, 40L * MIB, MIB));
        assertEquals(5 * MIB, d.allocatedBytes());

        // The same place written over and over, from a fresh device: each write takes the pages
        // the one before put out, side by side.
        MemoryDevice steady = new MemoryDevice(64 * MIB);
        long held = 0;
        for (int round = 0; round < 64; round++) {
            byte[] again = random(100 + round, MIB);
            StagedPages next = received(steady, MIB, again);
            assertEquals(1, next.views().length, "round " + round + ": the pages put out last, in order");
            writeReceived(steady, MIB, next, MIB);
            assertArrayEquals(again, Io.read(steady, MIB, MIB));
            if (round == 1) {
                held = steady.pageMemoryBytes();
            }
        }
        assertEquals(held, steady.pageMemoryBytes(), "no more memory held after 62 more rounds");
        assertEquals(MIB, steady.allocatedBytes());
    }

    /**
     * Pages no write took go back, and are the next taken; a write received into a tree the device
     * has since dropped (closed) goes with that tree, as one under way in it does; and where no more memory can be had
     * no pages are staged, none left pinned (the write then goes the buffered way).
     */
    @Test
    void pagesNotTakenGoBackAndPagesOfADroppedTreeAreCopied() throws IOException {
        MemoryDevice d = new MemoryDevice(64 * MIB);
        received(d, 0, random(20, MIB)).discard();
        long held = d.pageMemoryBytes();
        for (int i = 0; i < 100; i++) {
            StagedPages pages = received(d, (long) i * MIB % (32L * MIB), random(21, MIB));
            assertEquals(1, pages.views().length, "the pages given back, taken again in order");
            pages.discard();
        }
        assertEquals(held, d.pageMemoryBytes(), "nothing more held");
        assertEquals(0, d.allocatedBytes(), "and nothing written");

        byte[] payload = random(22, 200_000);
        StagedPages early = received(d, 5000, payload);
        d.close(); // a new tree, empty; the old one's memory goes back to the system
        writeReceived(d, 5000, early, payload.length);
        assertArrayEquals(new byte[payload.length], Io.read(d, 5000, payload.length), "the write went with its tree");
        assertEquals(0, d.allocatedBytes(), "nothing written into the new tree");

        // Pages freed apart (every other one trimmed) are taken apart: a view each, bytes exact.
        MemoryDevice holes = new MemoryDevice(64 * MIB);
        byte[] before = random(23, 2 * MIB);
        Io.write(holes, 0, before, false);
        for (int page = 0; page < 512; page += 2) {
            Io.trim(holes, (long) page * PAGE, PAGE, false);
            java.util.Arrays.fill(before, page * PAGE, (page + 1) * PAGE, (byte) 0);
        }
        byte[] scattered = random(24, MIB);
        StagedPages apart = received(holes, 8L * MIB, scattered);
        assertEquals(256, apart.views().length, "no page taken lies after the one before");
        writeReceived(holes, 8L * MIB, apart, MIB);
        assertArrayEquals(scattered, Io.read(holes, 8L * MIB, MIB));
        assertArrayEquals(before, Io.read(holes, 0, 2 * MIB), "nothing else changed");

        MemoryDevice small = oneSlab();
        Io.write(small, 0, Io.filled(2 * MIB - 8 * PAGE, 1), false);
        assertNull(small.stagePages(10L * MIB, MIB), "eight pages left, 256 asked for");
        Io.write(small, 20L * MIB, Io.filled(8 * PAGE, 2), false); // the eight, none kept pinned
        assertArrayEquals(Io.filled(8 * PAGE, 2), Io.read(small, 20L * MIB, 8 * PAGE));
        assertNull(d.stagePages(64L * MIB - 4096, 8192), "past the end: nothing to hold for a write refused");
        assertNull(new MemoryDevice(1L << 40).stagePages(0, 64 * MIB), "more than the largest block");
    }

    /**
     * Readers racing writes received into pages: every page a reader sees is one write's whole
     * page (a page put out stays the reader's until let go, and the page taken in was filled
     * before anyone could see it).
     */
    @Test
    void readersRacingPagesPutInPlaceSeeWholePages() throws Exception {
        MemoryDevice d = new MemoryDevice(8 * MIB);
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<String> wrong = new java.util.concurrent.atomic.AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; !done.get() && wrong.get() == null; i++) {
                    byte[] page = Io.read(d, (long) (i % 256) * PAGE, PAGE);
                    for (byte b : page) {
                        if (b != page[0]) {
                            wrong.set("page " + i % 256 + " mixes " + page[0] + " and " + b);
                            break;
                        }
                    }
                }
            } catch (IOException e) {
                wrong.set(e.toString());
            }
        });
        try {
            for (int round = 1; round <= 300 && wrong.get() == null; round++) {
                if (round % 50 == 0) {
                    Io.trim(d, 0, MIB, false); // pages freed outright too
                }
                writeReceived(d, 0, received(d, 0, Io.filled(MIB, round)), MIB);
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertNull(wrong.get(), wrong.get());
        assertArrayEquals(Io.filled(MIB, 300 % 256), Io.read(d, 0, MIB));
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
