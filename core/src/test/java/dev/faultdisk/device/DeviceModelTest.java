package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random operation sequences on both backends against a plain byte array. Reads must
 * equal the model; extents must tile the asked range and never call non-zero bytes ZERO.
 */
class DeviceModelTest {
    private static final long[] SEEDS = {1, 2, 3, 20240601};
    private static final int OPS = 3000;
    /** Not a multiple of any chunk or block size, so the tail is exercised. */
    private static final int SIZE = (3 << 20) + 12345;

    @TempDir
    Path dir;

    @Test
    void memoryDeviceFollowsTheModel() throws IOException {
        for (long seed : SEEDS) {
            try (MemoryDevice device = new MemoryDevice(SIZE)) {
                run(device, seed, true, true, true);
                assertTrue(
                        device.allocatedBytes()
                                <= ((long) SIZE + MemoryDevice.CHUNK - 1) / MemoryDevice.CHUNK * MemoryDevice.CHUNK,
                        "allocated " + device.allocatedBytes());
            }
        }
    }

    @Test
    void fileDeviceFollowsTheModel() throws IOException {
        boolean punches = punchesHoles(dir);
        boolean inPlace = zeroesInPlace(dir);
        for (long seed : SEEDS) {
            Path image = dir.resolve("model-" + seed + ".img");
            byte[] model;
            try (FileDevice device = FileDevice.open(image, SIZE, false)) {
                assertEquals(SIZE, device.size());
                model = run(device, seed, punches, punches || inPlace, inPlace);
            }
            // What was written is in the file itself once the device is closed.
            assertArrayEquals(model, Files.readAllBytes(image), "file content, seed " + seed);
        }
    }

    /**
     * Runs the seeded sequence against {@code device}. {@code trimZeroes}: trim leaves zeroes
     * (else the old data); {@code fastZeroes}: write-zeroes with fastOnly and without noHole
     * succeeds; {@code fastNoHole}: with fastOnly and noHole too.
     */
    private static byte[] run(BlockDevice device, long seed, boolean trimZeroes, boolean fastZeroes, boolean fastNoHole)
            throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] model = new byte[SIZE];
        for (int op = 0; op < OPS; op++) {
            long offset = random.nextInt(SIZE);
            int max = SIZE - (int) offset;
            int length = Math.min(
                    max,
                    switch (random.nextInt(4)) {
                        case 0 -> random.nextInt(1, 513);
                        case 1 -> 4096 * random.nextInt(1, 20);
                        case 2 -> random.nextInt(1, 70_000);
                        default -> random.nextInt(1, 300_000);
                    });
            if (random.nextInt(4) == 0) {
                offset &= ~(MemoryDevice.CHUNK - 1L); // chunk-aligned ranges free whole chunks
                length = Math.min(SIZE - (int) offset, length);
            }
            String what = "seed " + seed + " op " + op + " at " + offset + "+" + length;
            switch (random.nextInt(7)) {
                case 0, 1 -> {
                    byte[] data = new byte[length];
                    random.nextBytes(data);
                    if (random.nextInt(3) == 0) {
                        Arrays.fill(data, 0, length / 2, (byte) 0); // zeroes written as data
                    }
                    Io.write(device, offset, ByteBuffer.wrap(data), random.nextInt(16) == 0);
                    System.arraycopy(data, 0, model, (int) offset, length);
                }
                case 2 -> {
                    Io.trim(device, offset, length, random.nextInt(16) == 0);
                    if (trimZeroes) {
                        Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
                    }
                }
                case 3 -> {
                    boolean noHole = random.nextBoolean();
                    boolean fastOnly = random.nextInt(4) == 0;
                    // A file zeroes fast by punching a hole or zeroing in place; memory always fast.
                    boolean expectRefusal = fastOnly && !(noHole ? fastNoHole : fastZeroes);
                    try {
                        Io.writeZeroes(device, offset, length, noHole, fastOnly, random.nextInt(16) == 0);
                        if (expectRefusal) {
                            fail(what + ": a fast zero this file system cannot do should be refused");
                        }
                        Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
                    } catch (DeviceException e) {
                        assertTrue(expectRefusal, what + ": " + e.getMessage());
                        assertEquals(Errno.ENOTSUP, e.errno());
                    }
                }
                case 4, 5 -> {
                    ByteBuffer dst = ByteBuffer.allocate(length + 3).position(3);
                    Io.read(device, offset, dst);
                    assertEquals(dst.limit(), dst.position(), what + ": read filled its buffer");
                    assertArrayEquals(
                            Arrays.copyOfRange(model, (int) offset, (int) offset + length),
                            Arrays.copyOfRange(dst.array(), 3, length + 3),
                            what + ": read");
                }
                default -> checkExtents(device, model, offset, length, what);
            }
        }
        checkExtents(device, model, 0, SIZE, "seed " + seed + " whole device");
        ByteBuffer all = ByteBuffer.allocate(SIZE);
        Io.read(device, 0, all);
        assertArrayEquals(model, all.array(), "seed " + seed + " final content");
        return model;
    }

    /** Extents tile [offset, offset+length) with non-empty extents and never call data ZERO. */
    static void checkExtents(BlockDevice device, byte[] model, long offset, long length, String what)
            throws IOException {
        long[] pos = {offset};
        int[] count = {0};
        Io.extents(device, offset, length, (len, flags) -> {
            assertTrue(len > 0, what + ": empty extent");
            assertTrue(pos[0] + len <= offset + length, what + ": extent past the range");
            if ((flags & ExtentSink.ZERO) != 0) {
                for (long i = pos[0]; i < pos[0] + len; i++) {
                    if (model[(int) i] != 0) {
                        fail(what + ": extent at " + pos[0] + "+" + len + " claims ZERO but byte " + i + " is "
                                + model[(int) i]);
                    }
                }
            }
            pos[0] += len;
            count[0]++;
            return true;
        });
        assertTrue(count[0] > 0, what + ": no extent");
        assertEquals(offset + length, pos[0], what + ": extents cover the whole range");
    }

    /** True if this file system zeroes a range in place through the calls FileDevice uses. */
    static boolean zeroesInPlace(Path dir) throws IOException {
        return probe(dir, fd -> LinuxFiles.zeroRange(fd, 0, 4096) || LinuxFiles.punchAndAllocate(fd, 0, 4096));
    }

    /** True if this file system punches holes through the same calls FileDevice uses. */
    static boolean punchesHoles(Path dir) throws IOException {
        return probe(dir, fd -> LinuxFiles.punchHole(fd, 0, 4096));
    }

    /** {@code call}'s answer on a writable descriptor of an 8 KiB probe file in {@code dir}. */
    private static boolean probe(Path dir, IntPredicate call) throws IOException {
        Path probe = dir.resolve("fallocate-probe");
        Files.write(probe, new byte[8192]);
        int fd = LinuxFiles.openForWrite(probe);
        try {
            return call.test(fd);
        } finally {
            Libc.close(fd);
            Files.delete(probe);
        }
    }
}
