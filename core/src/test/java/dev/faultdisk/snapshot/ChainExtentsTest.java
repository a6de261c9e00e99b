package dev.faultdisk.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChainExtentsTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    /**
     * A medium over a byte array that reports an all-zero 4 KiB block as a hole and answers at
     * most three extents a call, so a walk has to ask it again.
     */
    static final class HoleyMedium extends SnapshotVolumeTest.ArrayMedium {
        HoleyMedium(int size) {
            super(size);
        }

        @Override
        public void extents(long offset, long length, ExtentSink sink) {
            long end = Math.min(data.length, offset + length);
            long pos = offset;
            for (int answered = 0; pos < end && answered < 3; answered++) {
                int flags = flagsAt(pos);
                long next = Math.min(end, (pos / BLOCK + 1) * BLOCK);
                while (next < end && flagsAt(next) == flags) {
                    next = Math.min(end, next + BLOCK);
                }
                if (!sink.accept(next - pos, flags)) {
                    return;
                }
                pos = next;
            }
        }

        private int flagsAt(long pos) {
            int from = (int) (pos / BLOCK * BLOCK);
            int to = Math.min(data.length, from + BLOCK);
            for (int i = from; i < to; i++) {
                if (data[i] != 0) {
                    return 0;
                }
            }
            return ExtentSink.HOLE | ExtentSink.ZERO;
        }
    }

    /**
     * Random writes, zeroes (runs among them), snapshots, reverts and deletes over a medium with
     * holes; now and then block status of random ranges, whole and cut short by the sink, each way:
     * the two walks answer the same extents, they cover the range exactly, and every extent said
     * to read as zeroes does, and every block that reads other than zeroes is said to be data.
     */
    @Test
    void bothWalksAnswerTheSameExtentsAndTheExtentsTellTheTruth() throws IOException {
        for (long seed = 1; seed <= 6; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int size = 1024 * 1024 + 512 * random.nextInt(8); // not always a multiple of 4 KiB
            HoleyMedium medium = new HoleyMedium(size);
            for (int b = 0; b < size / BLOCK; b += 1 + random.nextInt(6)) {
                Arrays.fill(medium.data, b * BLOCK, b * BLOCK + 1 + random.nextInt(BLOCK), (byte) 7);
            }
            SnapshotVolume v =
                    SnapshotVolume.over(medium, random.nextBoolean(), dir, InstantSource.fixed(Instant.EPOCH));
            List<String> names = new ArrayList<>();
            int checked = 0;
            for (int step = 0; step < 400; step++) {
                int op = random.nextInt(100);
                int offset = random.nextInt(size);
                int length = Math.min(size - offset, 1 + random.nextInt(random.nextBoolean() ? 600 : 40_000));
                if (op < 50) {
                    byte[] data = new byte[length];
                    random.nextBytes(data);
                    v.write(offset, ByteBuffer.wrap(data));
                } else if (op < 65) {
                    v.zero(offset, random.nextInt(3) == 0 ? size - offset : length);
                } else if (op < 75 && names.size() < 8) {
                    names.add("s" + step);
                    v.create(names.getLast());
                } else if (op < 80 && !names.isEmpty()) {
                    v.revert(names.get(random.nextInt(names.size())));
                } else if (op < 83 && !names.isEmpty()) {
                    v.delete(names.remove(random.nextInt(names.size())));
                }
                if (step % 10 == 0 && v.layered()) {
                    for (int q = 0; q < 8; q++) {
                        long from = q == 0 ? 0 : random.nextInt(size);
                        long asked = q == 0 ? size : 1 + random.nextInt(size);
                        check(
                                v,
                                from,
                                asked,
                                q % 3 == 1 ? 1 + random.nextInt(4) : Integer.MAX_VALUE,
                                seed + "/" + step);
                        checked++;
                    }
                }
            }
            assertTrue(checked > 50, "block status checked " + checked + " times under snapshots");
            v.close();
        }
    }

    private static void check(SnapshotVolume v, long from, long asked, int most, String where) throws IOException {
        ChainExtents chain = v.chainExtents();
        assertNotNull(chain);
        List<long[]> byBlock = collect(sink -> chain.blockByBlock(from, asked, sink), most);
        List<long[]> heldToHeld = collect(sink -> chain.heldToHeld(from, asked, sink), most);
        String context = where + ": [" + from + ", +" + asked + ") at most " + most;
        assertEquals(render(byBlock), render(heldToHeld), context);
        long covered = byBlock.stream().mapToLong(e -> e[0]).sum();
        if (most == Integer.MAX_VALUE) {
            assertEquals(Math.min(asked, v.size() - from), covered, context);
        }
        // An extent said to read as zeroes does: a block that reads otherwise is said to be data.
        ByteBuffer all = ByteBuffer.allocate((int) covered);
        v.read(from, all);
        long start = from;
        for (long[] e : byBlock) {
            if ((e[1] & ExtentSink.ZERO) != 0) {
                int i = (int) (start - from);
                int to = (int) (i + e[0]);
                while (i < to && all.get(i) == 0) {
                    i++;
                }
                assertEquals(to, i, context + ": an extent said zero from " + start + " has a byte at " + (from + i));
            }
            start += e[0];
        }
    }

    @FunctionalInterface
    interface Walk {
        void run(ExtentSink sink) throws IOException;
    }

    private static List<long[]> collect(Walk walk, int most) throws IOException {
        List<long[]> out = new ArrayList<>();
        walk.run((length, flags) -> {
            out.add(new long[] {length, flags});
            return out.size() < most;
        });
        return out;
    }

    private static String render(List<long[]> extents) {
        StringBuilder s = new StringBuilder();
        for (long[] e : extents) {
            s.append(e[0]).append(':').append(e[1]).append(' ');
        }
        return s.toString();
    }

    /**
     * A 16 TiB hole under two snapshots, 4,000 blocks written at random and a zeroed tebibyte: one
     * block status call over the whole disk answers all of it (held block to held block; block by
     * block a call ends after 4 GiB), extent for extent as a model of the writes says; asked for
     * {@code Long.MAX_VALUE} bytes from past the start, the same as to the end.
     */
    @Test
    void aMapOfSixteenTebibytesUnderSnapshotsIsAnsweredInOneCall() throws IOException {
        long size = 16L << 40;
        long tib = 1L << 40;
        SnapshotVolumeTest.PatternMedium hole =
                new SnapshotVolumeTest.PatternMedium(size, (byte) 0, ExtentSink.HOLE | ExtentSink.ZERO);
        SnapshotVolume v = SnapshotVolume.over(hole, true, dir, InstantSource.fixed(Instant.EPOCH));
        v.create("empty");
        SplittableRandom random = new SplittableRandom(42);
        TreeMap<Long, Integer> model = new TreeMap<>(); // block -> flags, 0 data or ZERO
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, (byte) 1);
        for (int i = 0; i < 4000; i++) {
            if (i == 2000) {
                v.create("half");
            }
            long b = random.nextLong(size / BLOCK);
            v.write(b * BLOCK, ByteBuffer.wrap(data));
            model.put(b, 0);
        }
        v.zero(3 * tib, tib);
        model.subMap(3 * tib / BLOCK, 4 * tib / BLOCK).clear();
        List<long[]> expected = new ArrayList<>();
        long pos = 0;
        for (var e : model.headMap(3 * tib / BLOCK).entrySet()) {
            add(expected, e.getKey() * BLOCK - pos, ExtentSink.HOLE | ExtentSink.ZERO);
            add(expected, BLOCK, e.getValue());
            pos = (e.getKey() + 1) * BLOCK;
        }
        add(expected, 3 * tib - pos, ExtentSink.HOLE | ExtentSink.ZERO);
        add(expected, tib, ExtentSink.ZERO);
        pos = 4 * tib;
        for (var e : model.tailMap(4 * tib / BLOCK).entrySet()) {
            add(expected, e.getKey() * BLOCK - pos, ExtentSink.HOLE | ExtentSink.ZERO);
            add(expected, BLOCK, e.getValue());
            pos = (e.getKey() + 1) * BLOCK;
        }
        add(expected, size - pos, ExtentSink.HOLE | ExtentSink.ZERO);
        List<long[]> got = new ArrayList<>();
        v.extents(0, size, (length, flags) -> got.add(new long[] {length, flags}));
        for (int i = 0; i < Math.min(expected.size(), got.size()); i++) {
            assertEquals(render(expected.subList(i, i + 1)), render(got.subList(i, i + 1)), "extent " + i);
        }
        assertEquals(expected.size(), got.size(), "extents");
        long from = 3 * BLOCK;
        List<long[]> toTheEnd = new ArrayList<>();
        v.extents(from, size - from, (length, flags) -> toTheEnd.add(new long[] {length, flags}));
        List<long[]> unbounded = new ArrayList<>();
        v.extents(from, Long.MAX_VALUE, (length, flags) -> unbounded.add(new long[] {length, flags}));
        assertEquals(toTheEnd.size(), unbounded.size(), "a length past the end, however large, is cut at the end");
        assertEquals(render(toTheEnd), render(unbounded));
        assertTrue(hole.changes.isEmpty(), "the medium is not written under a snapshot: " + hole.changes);
        v.close();
    }

    /** Appends an extent, joined to the last one if their flags match. */
    private static void add(List<long[]> extents, long length, int flags) {
        if (length == 0) {
            return;
        }
        if (!extents.isEmpty() && extents.getLast()[1] == flags) {
            extents.getLast()[0] += length;
        } else {
            extents.add(new long[] {length, flags});
        }
    }
}
