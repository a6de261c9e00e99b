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
    static final class ArrayMedium implements SnapshotVolume.Medium {
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

    /** A medium of {@code size} bytes that read 0x11 and must not be written (snapshots are live over it). */
    static final class PatternMedium implements SnapshotVolume.Medium {
        private final long size;

        PatternMedium(long size) {
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            while (dst.hasRemaining()) {
                dst.put((byte) 0x11);
            }
        }

        @Override
        public void write(long offset, ByteBuffer src) {
            throw new AssertionError("written under a snapshot");
        }

        @Override
        public void zero(long offset, long length) {
            throw new AssertionError("zeroed under a snapshot");
        }

        @Override
        public void extents(long offset, long length, ExtentSink sink) {
            sink.accept(length, 0);
        }
    }

    /**
     * With snapshots live, a zero of more than one step (1 GiB) is marked step by step, the lock
     * let go in between, and reads back as zeroes across every step's edge; block status walks at
     * most 4 GiB at once.
     */
    @Test
    void aZeroOfGigabytesUnderASnapshotGoesInStepsAndBlockStatusWalksAtMost4GiB() throws IOException {
        long gib = 1L << 30;
        SnapshotVolume v =
                SnapshotVolume.over(new PatternMedium(8 * gib), true, dir, InstantSource.fixed(Instant.EPOCH));
        v.create("before");
        v.zero(gib + 512, 5 * gib);
        for (long at : new long[] {gib, 2 * gib - 4096, 2 * gib, 3 * gib, 6 * gib - 4096, 6 * gib}) {
            ByteBuffer b = ByteBuffer.allocate(8192);
            v.read(at, b);
            byte[] want = new byte[8192];
            long zeroFrom = Math.max(at, gib + 512) - at;
            long zeroTo = Math.min(at + 8192, 6 * gib + 512) - at;
            Arrays.fill(want, (byte) 0x11);
            if (zeroFrom < zeroTo) {
                Arrays.fill(want, (int) zeroFrom, (int) zeroTo, (byte) 0);
            }
            assertArrayEquals(want, b.array(), "at " + at);
        }
        long[] covered = {0};
        v.extents(0, 8 * gib, (length, flags) -> {
            covered[0] += length;
            return true;
        });
        assertEquals(SnapshotVolume.MAX_WALK, covered[0], "a block status answer covers 4 GiB, the client asks on");
        v.revert("before");
        ByteBuffer b = ByteBuffer.allocate(4096);
        v.read(3 * gib, b);
        assertEquals(0x11, b.get(0), "the snapshot kept what the zero replaced");
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
                    v.zero(offset, length);
                    Arrays.fill(model, offset, offset + length, (byte) 0);
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
