package dev.faultdisk.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SnapshotVolumeTest {
    @TempDir
    Path dir;

    /** A medium over a byte array that counts writes, so a test can see what reaches it. */
    static class ArrayMedium implements SnapshotVolume.Medium {
        final byte[] data;
        long writes;

        ArrayMedium(int size) {
            data = new byte[size];
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            dst.put(data, (int) offset, dst.remaining());
        }

        @Override
        public void write(long offset, ByteBuffer src) {
            writes++;
            src.get(data, (int) offset, src.remaining());
        }

        @Override
        public void zero(long offset, long length) {
            writes++;
            Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        }

        @Override
        public void extents(long offset, long length, ExtentSink sink) {
            sink.accept(length, 0);
        }
    }

    /**
     * A medium of {@code size} bytes that read {@code fill} and are one extent of {@code flags}
     * (0x11 and data unless told); it records what is written or zeroed to it.
     */
    static final class PatternMedium implements SnapshotVolume.Medium {
        private final long size;
        private final byte fill;
        private final int flags;
        final List<String> changes = new ArrayList<>();

        PatternMedium(long size) {
            this(size, (byte) 0x11, 0);
        }

        PatternMedium(long size, byte fill, int flags) {
            this.size = size;
            this.fill = fill;
            this.flags = flags;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            while (dst.hasRemaining()) {
                dst.put(fill);
            }
        }

        @Override
        public void write(long offset, ByteBuffer src) {
            changes.add("write " + offset + "+" + src.remaining());
        }

        @Override
        public void zero(long offset, long length) {
            changes.add("zero " + offset + "+" + length);
        }

        @Override
        public void extents(long offset, long length, ExtentSink sink) {
            sink.accept(Math.min(length, size - offset), flags);
        }
    }

    private static byte[] readAt(SnapshotVolume v, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        v.read(offset, b);
        return b.array();
    }

    /**
     * With snapshots live, a zero of nearly 16 TiB (one request with NBD's extended headers) is one
     * run in the live delta, not 4 billion index entries: it reads back as zeroes, a write inside
     * it reads back as written and a zero over that write as zeroes; revert counts what it drops
     * from the run; block status answers all 16 TiB in three extents; deleting the last snapshot
     * zeroes the medium once for the run.
     */
    @Test
    void aZeroOfTerabytesUnderASnapshotIsOneRun() throws IOException {
        long gib = 1L << 30;
        long size = 16L << 40;
        PatternMedium medium = new PatternMedium(size);
        SnapshotVolume v = SnapshotVolume.over(medium, true, dir, InstantSource.fixed(Instant.EPOCH));
        v.create("before");
        long from = gib + 512;
        long to = size - gib + 512;
        v.zero(from, to - from);
        byte[] edge = readAt(v, gib, 1024);
        assertEquals(0x11, edge[511]);
        assertEquals(0, edge[512]);
        assertArrayEquals(new byte[8192], readAt(v, 8L << 40, 8192));
        byte[] tail = readAt(v, to - 512, 1024);
        assertEquals(0, tail[511]);
        assertEquals(0x11, tail[512]);
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x5a);
        v.write(9L << 40, ByteBuffer.wrap(data));
        assertArrayEquals(data, readAt(v, 9L << 40, 4096), "a write inside the run reads as written");
        v.zero((9L << 40) - gib, 2 * gib);
        assertArrayEquals(new byte[4096], readAt(v, 9L << 40, 4096), "and zeroed again, as zeroes");
        List<long[]> extents = new ArrayList<>();
        v.extents(0, size, (length, flags) -> extents.add(new long[] {length, flags}));
        assertEquals(3, extents.size(), "data, the zeroed run as one extent, not a block each, data");
        assertArrayEquals(new long[] {gib + 4096, 0}, extents.get(0));
        assertArrayEquals(new long[] {size - 2 * gib - 4096, ExtentSink.ZERO}, extents.get(1));
        assertArrayEquals(new long[] {gib, 0}, extents.get(2), "the partial block and the medium's rest");
        assertTrue(medium.changes.isEmpty(), "nothing reaches the medium under a snapshot: " + medium.changes);
        long wholeBlocks = (to / 4096) - ((from + 4095) / 4096);
        assertEquals(
                (wholeBlocks + 2) * 4096,
                v.snapshots().getFirst().bytesChangedSince(),
                "the run and two partial blocks");
        v.delete("before");
        assertTrue(
                medium.changes.contains("zero " + ((from + 4095) / 4096) * 4096 + "+" + wholeBlocks * 4096),
                "the run goes back as one zero: " + medium.changes);
        assertTrue(medium.changes.size() < 10, medium.changes.toString());
    }

    private SnapshotVolume volume(ArrayMedium medium, boolean inMemory) {
        return SnapshotVolume.over(medium, inMemory, dir, InstantSource.fixed(Instant.EPOCH));
    }

    private static byte[] read(SnapshotVolume v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) v.size());
        v.read(0, b);
        return b.array();
    }

    private static void write(SnapshotVolume v, byte[] model, int offset, int length, long seed) throws IOException {
        byte[] data = new byte[length];
        new SplittableRandom(seed).nextBytes(data);
        v.write(offset, ByteBuffer.wrap(data));
        System.arraycopy(data, 0, model, offset, length);
    }

    /**
     * Random writes, zeroes, snapshots, reverts, deletes and clones, each state checked byte for
     * byte against a model: the volume, every snapshot and every clone.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void modelCheck(boolean inMemory) throws IOException {
        for (long seed = 1; seed <= 4; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int size = 256 * 1024 + 512 * random.nextInt(8); // not always a multiple of 4 KiB
            ArrayMedium medium = new ArrayMedium(size);
            SnapshotVolume v = volume(medium, inMemory);
            byte[] model = new byte[size];
            Map<String, byte[]> snaps = new HashMap<>();
            List<SnapshotVolume> clones = new ArrayList<>();
            List<byte[]> cloneModels = new ArrayList<>();
            int names = 0;
            for (int step = 0; step < 600; step++) {
                int op = random.nextInt(100);
                int offset = random.nextInt(size);
                int length = Math.min(size - offset, 1 + random.nextInt(random.nextBoolean() ? 600 : 20_000));
                if (op < 55) {
                    write(v, model, offset, length, random.nextLong());
                } else if (op < 65) {
                    // Now and then most of the disk: zeroes of many blocks go as runs.
                    int n = random.nextInt(3) == 0 ? random.nextInt(size - offset) + 1 : length;
                    v.zero(offset, n);
                    Arrays.fill(model, offset, offset + n, (byte) 0);
                } else if (op < 75 && snaps.size() < 10) {
                    String name = "s" + names++;
                    v.create(name);
                    snaps.put(name, model.clone());
                } else if (op < 85 && !snaps.isEmpty()) {
                    String name = pick(snaps, random);
                    v.revert(name);
                    model = snaps.get(name).clone();
                } else if (op < 90 && !snaps.isEmpty()) {
                    String name = pick(snaps, random);
                    v.delete(name);
                    snaps.remove(name);
                } else if (op < 93 && !snaps.isEmpty() && clones.size() < 3) {
                    String name = pick(snaps, random);
                    clones.add(v.cloneOf(name));
                    cloneModels.add(snaps.get(name).clone());
                } else if (!clones.isEmpty()) {
                    int c = random.nextInt(clones.size());
                    write(clones.get(c), cloneModels.get(c), offset, Math.min(length, 5000), random.nextLong());
                }
                if (step % 50 == 0) {
                    assertArrayEquals(model, read(v), "seed " + seed + " step " + step);
                }
            }
            assertArrayEquals(model, read(v));
            for (int c = 0; c < clones.size(); c++) {
                assertArrayEquals(cloneModels.get(c), read(clones.get(c)), "clone " + c);
            }
            for (Map.Entry<String, byte[]> s : snaps.entrySet()) {
                v.revert(s.getKey());
                assertArrayEquals(s.getValue(), read(v), "snapshot " + s.getKey());
            }
            for (SnapshotVolume c : clones) {
                c.close();
            }
            for (String name : new ArrayList<>(snaps.keySet())) {
                v.delete(name);
            }
            byte[] last = read(v);
            assertArrayEquals(last, medium.data, "with no snapshot and no clone left, the deltas are in the medium");
            v.close();
        }
    }

    private static String pick(Map<String, byte[]> snaps, SplittableRandom random) {
        List<String> names = new ArrayList<>(snaps.keySet());
        names.sort(null);
        return names.get(random.nextInt(names.size()));
    }

    @Test
    void theMediumDoesNotChangeWhileSnapshotsExistAndRevertReportsWhatItDropped() throws IOException {
        ArrayMedium medium = new ArrayMedium(1 << 20);
        SnapshotVolume v = volume(medium, true);
        byte[] model = new byte[1 << 20];
        write(v, model, 0, 8192, 1);
        long before = medium.writes;
        v.create("clean");
        write(v, model, 4096, 4096 * 3, 2); // blocks 1, 2, 3
        write(v, model, 100, 10, 3); // block 0, partly
        assertEquals(before, medium.writes, "writes after a snapshot go to the delta");
        assertEquals(4 * 4096L, v.snapshots().getFirst().bytesChangedSince());
        assertEquals(4 * 4096L, v.revert("clean"));
        assertEquals(0, v.snapshots().getFirst().bytesChangedSince());
        assertThrows(IllegalArgumentException.class, () -> v.create("clean"));
        assertThrows(IllegalArgumentException.class, () -> v.revert("nope"));
        assertTrue(v.has("clean"));
        SnapshotVolume clone = v.cloneOf("clean");
        assertTrue(v.hasClones());
        v.delete("clean");
        assertFalse(v.has("clean"));
        assertEquals(before, medium.writes, "a clone still reads the medium: it is not written back");
        clone.close();
        assertFalse(v.hasClones());
        byte[] held = read(v);
        v.settle();
        assertFalse(v.layered(), "with the clone gone, settling writes the deltas back");
        assertArrayEquals(held, medium.data);
    }

    @Test
    void aSnapshotBudget() {
        SnapshotVolume v = volume(new ArrayMedium(4096), true);
        for (int i = 0; i < SnapshotVolume.MAX_SNAPSHOTS; i++) {
            v.create("s" + i);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.create("one-more"));
        assertTrue(e.getMessage().contains("at most"), e.getMessage());
    }
}
