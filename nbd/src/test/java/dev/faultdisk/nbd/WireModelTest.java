package dev.faultdisk.nbd;

import dev.faultdisk.device.FileDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The seeded model test of the device backends, over the wire: random requests through NbdServer
 * with simple and structured replies, checked against a byte array.
 */
class WireModelTest {

    /** The server under test; a subclass runs every test with requests off the reader thread. */
    LocalServer newServer(String... exports) throws IOException {
        return new LocalServer(false, exports);
    }
    private static final long[] SEEDS = {5, 6, 7};
    private static final int OPS = 600;
    private static final int SIZE = (8 << 20) + 4097;

    /** What a backend does where the spec leaves a choice. */
    record Backend(boolean trimZeroes, boolean fastZeroWithHole, boolean fastZeroNoHole) {
        static final Backend MEMORY = new Backend(true, true, true);

        /** A file zeroes fast only by punching a hole, and trims only by punching. */
        static Backend file(boolean punches) {
            return new Backend(punches, punches, false);
        }
    }

    @TempDir
    Path dir;

    @Test
    void memoryExportWithStructuredReplies() throws IOException {
        byte[] model = new byte[SIZE];
        try (LocalServer server = newServer("m=memory:" + SIZE)) {
            for (long seed : SEEDS) {
                try (RawNbdClient c = RawNbdClient.open(server.port(), "m", true, true)) {
                    run(c, seed, model, Backend.MEMORY);
                }
            }
        }
    }

    @Test
    void memoryExportWithSimpleReplies() throws IOException {
        try (LocalServer server = newServer("m=memory:" + SIZE)) {
            try (RawNbdClient c = RawNbdClient.open(server.port(), "m", false, false)) {
                run(c, SEEDS[0], new byte[SIZE], Backend.MEMORY);
            }
        }
    }

    @Test
    void fileExportWithStructuredReplies() throws IOException {
        boolean punches = fileTrimLeavesZeroes(dir);
        Path image = dir.resolve("wire.img");
        byte[] model = new byte[SIZE];
        try (LocalServer server = newServer("f=" + image + ",size=" + SIZE)) {
            for (long seed : SEEDS) {
                try (RawNbdClient c = RawNbdClient.open(server.port(), "f", true, true)) {
                    run(c, seed, model, Backend.file(punches));
                }
            }
        }
        assertArrayEquals(model, Files.readAllBytes(image), "image file after the server closed it");
    }

    /** Runs one seeded sequence; {@code model} carries over between sequences on one export. */
    private static void run(RawNbdClient c, long seed, byte[] model, Backend backend)
            throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        boolean structured = (c.transmissionFlags() & FLAG_SEND_DF) != 0;
        assertEquals(SIZE, c.exportSize());
        long cookie = seed << 32;
        for (int op = 0; op < OPS; op++) {
            int offset = random.nextInt(SIZE);
            int length = Math.min(SIZE - offset, random.nextBoolean() ? random.nextInt(1, 9000)
                    : random.nextInt(1, 400_000));
            String what = "seed " + seed + " op " + op + " at " + offset + "+" + length;
            int fua = random.nextInt(8) == 0 ? CMD_FLAG_FUA : 0;
            switch (random.nextInt(structured ? 7 : 6)) {
                case 0, 1 -> {
                    byte[] data = new byte[length];
                    random.nextBytes(data);
                    assertEquals(0, c.command(fua, CMD_WRITE, ++cookie, offset, length, data), what);
                    System.arraycopy(data, 0, model, offset, length);
                }
                case 2 -> {
                    assertEquals(0, c.command(fua, CMD_TRIM, ++cookie, offset, length, null), what);
                    if (backend.trimZeroes()) {
                        Arrays.fill(model, offset, offset + length, (byte) 0);
                    }
                }
                case 3 -> {
                    int flags = fua | (random.nextBoolean() ? CMD_FLAG_NO_HOLE : 0)
                            | (random.nextInt(3) == 0 ? CMD_FLAG_FAST_ZERO : 0);
                    boolean fast = (flags & CMD_FLAG_FAST_ZERO) != 0;
                    boolean refused = fast && ((flags & CMD_FLAG_NO_HOLE) != 0
                            ? !backend.fastZeroNoHole() : !backend.fastZeroWithHole());
                    int error = c.command(flags, CMD_WRITE_ZEROES, ++cookie, offset, length, null);
                    if (refused) {
                        assertEquals(ENOTSUP, error, what + ": a slow zero with FAST_ZERO");
                    } else {
                        assertEquals(0, error, what);
                        Arrays.fill(model, offset, offset + length, (byte) 0);
                    }
                }
                case 4, 5 -> {
                    length = Math.min(length, MAX_PAYLOAD);
                    int flags = structured && length <= 65536 && random.nextBoolean() ? CMD_FLAG_DF : 0;
                    c.send(flags, CMD_READ, ++cookie, offset, length, null);
                    List<RawNbdClient.Reply> replies = c.readAll(cookie);
                    if (flags != 0) {
                        assertTrue(replies.size() == 1, what + ": DF read in one chunk");
                    }
                    assertArrayEquals(Arrays.copyOfRange(model, offset, offset + length),
                            RawNbdClient.assemble(offset, length, replies), what + ": read");
                }
                default -> checkBlockStatus(c, ++cookie, model, offset, length, random.nextInt(4) == 0, what);
            }
        }
        assertEquals(0, c.command(0, CMD_FLUSH, ++cookie, 0, 0, null));
        c.disconnect();
    }

    private static void checkBlockStatus(RawNbdClient c, long cookie, byte[] model, int offset, int length,
            boolean reqOne, String what) throws IOException {
        c.send(reqOne ? CMD_FLAG_REQ_ONE : 0, CMD_BLOCK_STATUS, cookie, offset, length, null);
        List<RawNbdClient.Reply> replies = c.readAll(cookie);
        assertEquals(1, replies.size(), what);
        ByteBuffer p = replies.getFirst().payload();
        assertEquals(REPLY_TYPE_BLOCK_STATUS, replies.getFirst().type(), what + ": error " + replies.getFirst().errorValue());
        assertEquals(BASE_ALLOCATION_ID, p.getInt());
        long pos = offset;
        int count = 0;
        while (p.hasRemaining()) {
            long len = Integer.toUnsignedLong(p.getInt());
            int flags = p.getInt();
            count++;
            assertTrue(len > 0, what + ": empty extent");
            assertTrue(pos + len <= offset + (long) length, what + ": extent past the request");
            if ((flags & 2) != 0) {
                for (long i = pos; i < pos + len; i++) {
                    if (model[(int) i] != 0) {
                        fail(what + ": ZERO claimed at " + pos + "+" + len + " but byte " + i + " is " + model[(int) i]);
                    }
                }
            }
            pos += len;
        }
        if (reqOne) {
            assertEquals(1, count, what + ": REQ_ONE");
        } else {
            assertEquals(offset + (long) length, pos, what + ": extents cover the range");
        }
    }

    /** Whether a file trim leaves zeroes in this directory, found with the backend itself. */
    private static boolean fileTrimLeavesZeroes(Path dir) throws IOException {
        Path probe = dir.resolve("trim-probe.img");
        byte[] ones = new byte[8192];
        Arrays.fill(ones, (byte) 1);
        try (FileDevice d = FileDevice.open(probe, 8192, false)) {
            d.write(0, ByteBuffer.wrap(ones), false);
            d.trim(0, 4096, false);
            ByteBuffer back = ByteBuffer.allocate(4096);
            d.read(0, back);
            return Arrays.equals(new byte[4096], back.array());
        } finally {
            Files.deleteIfExists(probe);
        }
    }
}
