package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sparse image offers its file for a large read ({@link FileDevice#readSource}) exactly when the
 * read lies wholly in data: never over a hole (on tmpfs a read through the file's mapping would
 * allocate it), and always over data written and not punched since.
 */
class DataRunsTest {
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 1024;
    /** What a block of the image is, as the steps made it. */
    private static final byte HOLE = 0;

    private static final byte DATA = 1;
    /** Zeroed keeping its blocks: data or a hole, as the file system does it. */
    private static final byte EITHER = 2;

    @TempDir
    Path dir;

    @Test
    void aSparseImageOffersItsFileForReadsWhollyInData() throws IOException {
        offersExactlyOverData(dir);
    }

    /** The same on tmpfs, where a hole read through a mapping would be allocated (where the machine has /dev/shm). */
    @Test
    void aSparseImageOnTmpfsOffersItsFileForReadsWhollyInData() throws IOException {
        Io.onTmpfs(DataRunsTest::offersExactlyOverData);
    }

    /** Runs are learnt, merged, forgotten where a punch goes, and all forgotten past their budget. */
    @Test
    void runsAreLearntMergedAndCut() throws IOException {
        Path image = dir.resolve("runs.img");
        try (FileDevice d = FileDevice.open(image, 8L * BLOCK * 64, false)) {
            Io.write(d, 0, new byte[16 * BLOCK], true);
            Io.write(d, 32 * BLOCK, Io.filled(16 * BLOCK, 3), true);
            int fd = LinuxFiles.openForControl(image);
            try {
                assertRuns(new DataRuns(fd));
            } finally {
                Libc.close(fd);
            }
        }
    }

    private static void assertRuns(DataRuns runs) {
        assertTrue(runs.allData(4 * BLOCK, 8 * BLOCK));
        assertArrayEquals(new long[] {4 * BLOCK, 16 * BLOCK}, runs.known(), "learnt from the read's start on");
        assertTrue(runs.allData(0, 2 * BLOCK));
        assertArrayEquals(new long[] {0, 16 * BLOCK}, runs.known(), "touching runs are one");
        assertFalse(runs.allData(15 * BLOCK, 17 * BLOCK), "a hole inside the read");
        assertFalse(runs.allData(20 * BLOCK, 21 * BLOCK), "a hole at its start");
        assertTrue(runs.allData(40 * BLOCK, 48 * BLOCK));
        runs.forget(16 * BLOCK, 40 * BLOCK);
        assertArrayEquals(new long[] {0, 16 * BLOCK, 40 * BLOCK, 48 * BLOCK}, runs.known(), "no run in the range");
        runs.forget(6 * BLOCK, 7 * BLOCK);
        assertArrayEquals(new long[] {40 * BLOCK, 48 * BLOCK}, runs.known(), "the run punched into forgotten whole");
        assertTrue(runs.allData(0, 6 * BLOCK), "learnt again");
        assertArrayEquals(
                new long[] {0, 16 * BLOCK, 40 * BLOCK, 48 * BLOCK},
                runs.known(),
                "the file's run (nothing was punched)");
        for (int b = 0; b < 16; b += 2) { // trims at random over a known run: the runs must not multiply
            runs.forget((long) b * BLOCK, (long) (b + 1) * BLOCK);
        }
        assertArrayEquals(new long[] {40 * BLOCK, 48 * BLOCK}, runs.known(), "no run left where the trims went");
        runs.forget(0, 64 * BLOCK);
        assertArrayEquals(new long[0], runs.known());
    }

    /** A fragmented image: past {@link DataRuns#MAX_RUNS} runs, those known are dropped for the new one. */
    @Test
    void runsPastTheBudgetAreForgotten() throws IOException {
        Path image = dir.resolve("fragmented.img");
        int runs = DataRuns.MAX_RUNS + 1;
        try (FileDevice d = FileDevice.open(image, 2L * runs * BLOCK, false)) {
            for (int i = 0; i < runs; i++) {
                Io.write(d, 2L * i * BLOCK, Io.filled(BLOCK, 1), false);
            }
            Io.flush(d);
            int fd = LinuxFiles.openForControl(image);
            try {
                DataRuns known = new DataRuns(fd);
                for (int i = 0; i < runs; i++) {
                    assertTrue(known.allData(2L * i * BLOCK, (2L * i + 1) * BLOCK), "run " + i);
                    assertTrue(known.known().length == 2 * (i % DataRuns.MAX_RUNS + 1), "runs known after " + i);
                }
                assertArrayEquals(new long[] {2L * (runs - 1) * BLOCK, (2L * runs - 1) * BLOCK}, known.known());
            } finally {
                Libc.close(fd);
            }
        }
    }

    private static void offersExactlyOverData(Path dir) throws IOException {
        for (long seed = 1; seed <= 3; seed++) {
            Path image = dir.resolve("sparse-" + seed + ".img");
            try (FileDevice d = FileDevice.open(image, (long) BLOCKS * BLOCK, false)) {
                history(d, new Random(seed), Files.getFileStore(dir).type() + ", seed " + seed);
            }
            Files.delete(image);
        }
    }

    /** Random writes, trims and zeroes, each followed by reads whose offer is checked against the model. */
    private static void history(FileDevice d, Random random, String what) throws IOException {
        byte[] model = new byte[BLOCKS];
        for (int step = 0; step < 300; step++) {
            int at = random.nextInt(BLOCKS);
            int n = Math.min(BLOCKS - at, 1 + random.nextInt(64));
            switch (random.nextInt(5)) {
                case 0, 1 -> {
                    Io.write(d, (long) at * BLOCK, Io.filled(n * BLOCK, 1 + step % 200), false);
                    Arrays.fill(model, at, at + n, DATA);
                }
                case 2 -> {
                    Io.trim(d, (long) at * BLOCK, (long) n * BLOCK, false);
                    Arrays.fill(model, at, at + n, HOLE);
                }
                case 3 -> {
                    Io.writeZeroes(d, (long) at * BLOCK, (long) n * BLOCK, false, false, false);
                    Arrays.fill(model, at, at + n, HOLE);
                }
                default -> {
                    Io.writeZeroes(d, (long) at * BLOCK, (long) n * BLOCK, true, false, false);
                    Arrays.fill(model, at, at + n, EITHER);
                }
            }
            for (int check = 0; check < 8; check++) {
                int from = random.nextInt(BLOCKS);
                int to = Math.min(BLOCKS, from + 1 + random.nextInt(256));
                BlockRequest read = BlockRequest.of(BlockOp.READ, (long) from * BLOCK, (long) (to - from) * BLOCK);
                String range = what + ", step " + step + ", blocks " + from + ".." + to;
                if (has(model, from, to, HOLE)) {
                    assertNull(d.readSource(read), "a hole in " + range);
                } else if (!has(model, from, to, EITHER)) {
                    assertNotNull(d.readSource(read), "all data in " + range);
                }
            }
        }
        byte[] whole = new byte[BLOCKS * BLOCK];
        d.read(BlockRequest.of(BlockOp.READ, 0, whole.length), ByteBuffer.wrap(whole));
        for (int b = 0; b < BLOCKS; b++) {
            if (model[b] != DATA) {
                assertTrue(isZero(whole, b), what + ": block " + b + " reads as zeroes");
            }
        }
    }

    private static boolean has(byte[] model, int from, int to, byte kind) {
        for (int b = from; b < to; b++) {
            if (model[b] == kind) {
                return true;
            }
        }
        return false;
    }

    private static boolean isZero(byte[] data, int block) {
        for (int i = block * BLOCK; i < (block + 1) * BLOCK; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
