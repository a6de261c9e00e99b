package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.FileDevice;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seeded model test of the device backends, over the wire: random requests through NbdServer
 * with simple and structured replies, checked against a byte array.
 */
class WireModelTest implements ServerUnderTest {
    private static final long[] SEEDS = {5, 6, 7};
    private static final int OPS = 600;
    private static final int SIZE = (8 << 20) + 4097;

    /** What a backend does where the spec leaves a choice. */
    record Backend(boolean trimZeroes, boolean fastZeroWithHole, boolean fastZeroNoHole) {
        static final Backend MEMORY = new Backend(true, true, true);

        /**
         * A file trims only by punching a hole, and zeroes fast by punching one or, keeping its
         * blocks, by zeroing in place (fallocate's ZERO_RANGE: ext4, XFS).
         */
        static Backend file(boolean punches, boolean zeroesInPlace) {
            return new Backend(punches, punches || zeroesInPlace, zeroesInPlace);
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
        boolean zeroesInPlace = fileZeroesInPlace(dir);
        Path image = dir.resolve("wire.img");
        byte[] model = new byte[SIZE];
        try (LocalServer server = newServer("f=" + image + ",size=" + SIZE)) {
            for (long seed : SEEDS) {
                try (RawNbdClient c = RawNbdClient.open(server.port(), "f", true, true)) {
                    run(c, seed, model, Backend.file(punches, zeroesInPlace));
                }
            }
        }
        assertArrayEquals(model, Files.readAllBytes(image), "image file after the server closed it");
    }

    /** A request sent and not yet answered, with what its reply must show. */
    private record Pending(
            int kind,
            long cookie,
            int offset,
            int length,
            int flags,
            boolean refused,
            byte[] expected,
            byte[] payload,
            String what) {}

    /**
     * Runs one seeded sequence; {@code model} carries over between sequences on one export.
     * Requests go in batches of up to eight on disjoint ranges, all sent before any reply is
     * read, so requests run concurrently where the server allows and replies come in any order.
     */
    private static void run(RawNbdClient c, long seed, byte[] model, Backend backend) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        boolean structured = (c.transmissionFlags() & FLAG_SEND_DF) != 0;
        assertEquals(SIZE, c.exportSize());
        long cookie = seed << 32;
        int op = 0;
        while (op < OPS) {
            int batch = random.nextInt(1, 9);
            List<Pending> pending = new ArrayList<>();
            for (int b = 0; b < batch && op < OPS; b++, op++) {
                int offset = random.nextInt(SIZE);
                int length = Math.min(
                        SIZE - offset, random.nextBoolean() ? random.nextInt(1, 9000) : random.nextInt(1, 400_000));
                int kind = random.nextInt(structured ? 7 : 6);
                int fua = random.nextInt(8) == 0 ? CMD_FLAG_FUA : 0;
                if (kind == 4 || kind == 5) {
                    length = Math.min(length, MAX_PAYLOAD);
                }
                if (overlaps(pending, offset, length)) {
                    continue; // disjoint ranges only: their outcome does not depend on order
                }
                String what = "seed " + seed + " op " + op + " at " + offset + "+" + length;
                ++cookie;
                switch (kind) {
                    case 0, 1 -> {
                        byte[] data = new byte[length];
                        random.nextBytes(data);
                        System.arraycopy(data, 0, model, offset, length);
                        pending.add(new Pending(CMD_WRITE, cookie, offset, length, fua, false, null, data, what));
                    }
                    case 2 -> {
                        if (backend.trimZeroes()) {
                            Arrays.fill(model, offset, offset + length, (byte) 0);
                        }
                        pending.add(new Pending(CMD_TRIM, cookie, offset, length, fua, false, null, null, what));
                    }
                    case 3 -> {
                        int flags = fua
                                | (random.nextBoolean() ? CMD_FLAG_NO_HOLE : 0)
                                | (random.nextInt(3) == 0 ? CMD_FLAG_FAST_ZERO : 0);
                        boolean fast = (flags & CMD_FLAG_FAST_ZERO) != 0;
                        boolean refused = fast
                                && ((flags & CMD_FLAG_NO_HOLE) != 0
                                        ? !backend.fastZeroNoHole()
                                        : !backend.fastZeroWithHole());
                        if (!refused) {
                            Arrays.fill(model, offset, offset + length, (byte) 0);
                        }
                        pending.add(new Pending(
                                CMD_WRITE_ZEROES, cookie, offset, length, flags, refused, null, null, what));
                    }
                    case 4, 5 -> {
                        int flags = structured && length <= 65536 && random.nextBoolean() ? CMD_FLAG_DF : 0;
                        pending.add(new Pending(
                                CMD_READ,
                                cookie,
                                offset,
                                length,
                                flags,
                                false,
                                Arrays.copyOfRange(model, offset, offset + length),
                                null,
                                what));
                    }
                    default -> {
                        int flags = random.nextInt(4) == 0 ? CMD_FLAG_REQ_ONE : 0;
                        pending.add(
                                new Pending(CMD_BLOCK_STATUS, cookie, offset, length, flags, false, null, null, what));
                    }
                }
            }
            // Payloads first: once the client only reads, large read replies cannot fill both directions.
            for (boolean writes : new boolean[] {true, false}) {
                for (Pending p : pending) {
                    if ((p.kind() == CMD_WRITE) == writes) {
                        c.send(p.flags(), p.kind(), p.cookie(), p.offset(), p.length(), p.payload());
                    }
                }
            }
            c.flush();
            Map<Long, List<RawNbdClient.Reply>> replies = c.readReplies(pending.size());
            for (Pending p : pending) {
                check(p, replies.get(p.cookie()), model);
            }
        }
        assertEquals(0, c.command(0, CMD_FLUSH, ++cookie, 0, 0, null));
        c.disconnect();
    }

    private static boolean overlaps(List<Pending> pending, int offset, int length) {
        for (Pending p : pending) {
            if (offset < p.offset() + p.length() && p.offset() < offset + length) {
                return true;
            }
        }
        return false;
    }

    private static void check(Pending p, List<RawNbdClient.Reply> replies, byte[] model) throws IOException {
        String what = p.what();
        switch (p.kind()) {
            case CMD_READ -> {
                if ((p.flags() & CMD_FLAG_DF) != 0) {
                    assertEquals(1, replies.size(), what + ": DF read in one chunk");
                }
                assertArrayEquals(
                        p.expected(), RawNbdClient.assemble(p.offset(), p.length(), replies), what + ": read");
            }
            case CMD_BLOCK_STATUS ->
                checkBlockStatus(replies, model, p.offset(), p.length(), (p.flags() & CMD_FLAG_REQ_ONE) != 0, what);
            case CMD_WRITE_ZEROES ->
                assertEquals(
                        p.refused() ? ENOTSUP : 0,
                        RawNbdClient.errorOf(replies),
                        what + (p.refused() ? ": a slow zero with FAST_ZERO" : ""));
            default -> assertEquals(0, RawNbdClient.errorOf(replies), what);
        }
    }

    private static void checkBlockStatus(
            List<RawNbdClient.Reply> replies, byte[] model, int offset, int length, boolean reqOne, String what) {
        assertEquals(1, replies.size(), what);
        ByteBuffer p = replies.getFirst().payload();
        assertEquals(
                REPLY_TYPE_BLOCK_STATUS,
                replies.getFirst().type(),
                what + ": error " + replies.getFirst().errorValue());
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
                        fail(what + ": ZERO claimed at " + pos + "+" + len + " but byte " + i + " is "
                                + model[(int) i]);
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
    /** Whether a file device here serves a fast zero that keeps the blocks (NO_HOLE). */
    private static boolean fileZeroesInPlace(Path dir) throws IOException {
        Path probe = dir.resolve("zero-probe.img");
        try (FileDevice d = FileDevice.open(probe, 8192, false)) {
            d.writeZeroes(BlockRequest.of(
                    BlockOp.WRITE_ZEROES, 0, 4096, BlockRequest.Flag.NO_HOLE, BlockRequest.Flag.FAST_ZERO));
            return true;
        } catch (DeviceException e) {
            return false;
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    private static boolean fileTrimLeavesZeroes(Path dir) throws IOException {
        Path probe = dir.resolve("trim-probe.img");
        byte[] ones = new byte[8192];
        Arrays.fill(ones, (byte) 1);
        try (FileDevice d = FileDevice.open(probe, 8192, false)) {
            d.write(BlockRequest.of(BlockOp.WRITE, 0, ones.length), ByteBuffer.wrap(ones));
            d.trim(BlockRequest.of(BlockOp.TRIM, 0, 4096));
            ByteBuffer back = ByteBuffer.allocate(4096);
            d.read(BlockRequest.of(BlockOp.READ, 0, 4096), back);
            return Arrays.equals(new byte[4096], back.array());
        } finally {
            Files.deleteIfExists(probe);
        }
    }
}
