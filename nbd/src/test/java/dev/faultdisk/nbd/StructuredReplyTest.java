package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Structured replies on the wire: data and hole chunks, block status, many requests in flight. */
class StructuredReplyTest implements ServerUnderTest {
    private static final int K64 = 64 * 1024;
    private static final int HOLE_ZERO = 3;

    private LocalServer server;
    private RawNbdClient c;

    /** One BLOCK_STATUS descriptor. */
    record Extent(long length, int flags) {}

    @BeforeEach
    void setUp() throws IOException {
        server = newServer("disk=memory:64M", "big=memory:16G");
        c = server.open("disk");
    }

    @AfterEach
    void tearDown() throws IOException {
        c.close();
        server.close();
    }

    @Test
    void readOfWrittenDataIsOneOffsetDataChunkWithDone() throws IOException {
        for (int length : new int[] {1, 4096, K64, K64 + 1, 1 << 20}) {
            long offset = 3L << 20;
            byte[] data = HostileClientTest.pattern(length, length);
            c.write(offset, data);
            c.send(0, CMD_READ, 77, offset, length, null);
            List<RawNbdClient.Reply> r = c.readAll(77);
            assertEquals(1, r.size(), "chunks for " + length);
            RawNbdClient.Reply chunk = r.getFirst();
            assertEquals(REPLY_TYPE_OFFSET_DATA, chunk.type());
            assertEquals(REPLY_FLAG_DONE, chunk.flags());
            ByteBuffer p = chunk.payload();
            assertEquals(offset, p.getLong());
            byte[] got = new byte[p.remaining()];
            p.get(got);
            assertArrayEquals(data, got);
        }
    }

    @Test
    void readOfNeverWrittenMiBIsOneHole() throws IOException {
        for (int flags : new int[] {0, CMD_FLAG_DF, CMD_FLAG_FUA}) {
            long offset = 16L << 20;
            c.send(flags, CMD_READ, 5, offset, 1 << 20, null);
            List<RawNbdClient.Reply> r = c.readAll(5);
            assertEquals(1, r.size());
            assertEquals(REPLY_TYPE_OFFSET_HOLE, r.getFirst().type());
            assertEquals(REPLY_FLAG_DONE, r.getFirst().flags());
            ByteBuffer p = r.getFirst().payload();
            assertEquals(12, p.remaining());
            assertEquals(offset, p.getLong());
            assertEquals(1 << 20, p.getInt());
        }
    }

    @Test
    void readOfPartlyWrittenRangeCarriesTheZeroesAsData() throws IOException {
        long offset = 20L << 20;
        byte[] data = HostileClientTest.pattern(4096, 9);
        c.write(offset + (512 << 10), data);
        byte[] expected = new byte[1 << 20];
        System.arraycopy(data, 0, expected, 512 << 10, data.length);
        assertArrayEquals(expected, c.read(offset, 1 << 20));
    }

    @Test
    void zeroLengthReadIsOneNoneChunk() throws IOException {
        c.send(0, CMD_READ, 8, 4096, 0, null);
        List<RawNbdClient.Reply> r = c.readAll(8);
        assertEquals(1, r.size());
        assertEquals(REPLY_TYPE_NONE, r.getFirst().type());
        assertEquals(0, r.getFirst().data().length);
    }

    @Test
    void readErrorIsAnErrorChunkWithItsMessage() throws IOException {
        c.send(0, CMD_READ, 9, 64L << 20, 512, null);
        List<RawNbdClient.Reply> r = c.readAll(9);
        assertEquals(1, r.size());
        RawNbdClient.Reply chunk = r.getFirst();
        assertEquals(REPLY_TYPE_ERROR, chunk.type());
        assertEquals(REPLY_FLAG_DONE, chunk.flags());
        ByteBuffer p = chunk.payload();
        assertEquals(EINVAL, p.getInt());
        int messageLength = Short.toUnsignedInt(p.getShort());
        assertEquals(p.remaining(), messageLength);
        assertTrue(messageLength > 0);
    }

    @Test
    void blockStatusMatchesWhatWasWritten() throws IOException {
        c.write(2 * K64, HostileClientTest.pattern(K64, 1));
        c.write(5 * K64, HostileClientTest.pattern(2 * K64, 2));
        assertEquals(
                List.of(
                        new Extent(2 * K64, HOLE_ZERO),
                        new Extent(K64, 0),
                        new Extent(2 * K64, HOLE_ZERO),
                        new Extent(2 * K64, 0),
                        new Extent(9 * K64, HOLE_ZERO)),
                blockStatus(0, 0, 16 * K64));

        // Zeroing without NO_HOLE and trimming give the space back.
        assertEquals(0, c.command(0, CMD_WRITE_ZEROES, 3, 2 * K64, K64, null));
        assertEquals(0, c.command(0, CMD_TRIM, 4, 5 * K64, 2 * K64, null));
        assertEquals(List.of(new Extent(16 * K64, HOLE_ZERO)), blockStatus(0, 0, 16 * K64));

        // Zeroing with NO_HOLE keeps written data's range allocated: not a hole (ZERO, optional,
        // is said here). Over a hole it creates nothing: the hole stays.
        c.write(4 * K64, HostileClientTest.pattern(K64, 3));
        assertEquals(0, c.command(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 5, 4 * K64, 2 * K64, null));
        List<Extent> e = blockStatus(0, 0, 16 * K64);
        assertEquals(new Extent(4 * K64, HOLE_ZERO), e.get(0));
        assertEquals(K64, e.get(1).length());
        assertEquals(0, e.get(1).flags() & 1, "NO_HOLE zeroes of written data are not a hole");
        assertEquals(new Extent(11 * K64, HOLE_ZERO), e.get(2), "nor do they fill a hole");
        assertArrayEquals(new byte[2 * K64], c.read(4 * K64, 2 * K64));
    }

    @Test
    void blockStatusOfUnalignedRangeCoversItExactly() throws IOException {
        c.write(K64, HostileClientTest.pattern(100, 3));
        List<Extent> e = blockStatus(0, 1000, 3 * K64);
        int page = 4096; // the memory backend allocates 4 KiB pages
        assertEquals(
                List.of(
                        new Extent(K64 - 1000, HOLE_ZERO),
                        new Extent(page, 0),
                        new Extent(2 * K64 + 1000 - page, HOLE_ZERO)),
                e);
    }

    @Test
    void reqOneReturnsOneExtentNoLongerThanAsked() throws IOException {
        c.write(2 * K64, HostileClientTest.pattern(K64, 1));
        assertEquals(List.of(new Extent(2 * K64, HOLE_ZERO)), blockStatus(CMD_FLAG_REQ_ONE, 0, 16 * K64));
        assertEquals(List.of(new Extent(100, HOLE_ZERO)), blockStatus(CMD_FLAG_REQ_ONE, 0, 100));
        assertEquals(List.of(new Extent(K64, 0)), blockStatus(CMD_FLAG_REQ_ONE, 2 * K64, 16 * K64));
        assertEquals(List.of(new Extent(10, 0)), blockStatus(CMD_FLAG_REQ_ONE, 2 * K64 + 7, 10));
    }

    @Test
    void blockStatusOfAHugeRangeStaysWithin32Bits() throws IOException {
        try (RawNbdClient big = server.open("big")) {
            big.write(8L << 30, new byte[] {1});
            for (long offset : new long[] {0, 4096, (8L << 30) - 4096}) {
                big.send(0, CMD_BLOCK_STATUS, 1, offset, 0xFFFF_FFFFL, null);
                List<Extent> e = extents(big.readAll(1));
                long sum = 0;
                for (Extent x : e) {
                    assertTrue(x.length() > 0, e.toString());
                    sum += x.length();
                }
                assertTrue(sum <= 0xFFFF_FFFFL, "extents past the request: " + e);
            }
        }
    }

    @Test
    void moreExtentsThanTheReplyBufferHolds(@TempDir Path dir) throws IOException {
        // 1 byte every 8 KiB of a sparse file: alternating 4 KiB data blocks and holes.
        Path image = dir.resolve("striped.img");
        int stripes = 20_000;
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(stripes * 8192L);
            for (int i = 0; i < stripes; i++) {
                f.seek(i * 8192L);
                f.write(1);
            }
        }
        try (LocalServer files = newServer("striped=" + image + ",readonly"); // read-only: no fsync at close
                RawNbdClient fc = files.open("striped")) {
            List<Extent> e = blockStatus(fc, 0, 0, stripes * 8192L);
            assertTrue(e.size() > 256 * 1024 / 8, "extents: " + e.size() + " (a sparse file system is needed)");
            long pos = 0;
            for (Extent x : e) {
                if ((x.flags() & 2) != 0) {
                    assertTrue(pos % 8192 != 0 || x.length() == 0, "ZERO claimed over the byte at " + pos);
                    assertTrue(pos / 8192 == (pos + x.length() - 1) / 8192, "ZERO extent spans a data byte at " + pos);
                }
                pos += x.length();
            }
            fc.disconnect();
        }
    }

    @Test
    void sixtyFourRequestsInFlightAreAllAnsweredWithTheirCookies() throws IOException {
        SplittableRandom random = new SplittableRandom(64);
        byte[] before = HostileClientTest.pattern(64 * 4096, 5);
        c.write(0, before);
        Map<Long, Integer> kinds = new HashMap<>();
        Map<Long, byte[]> written = new HashMap<>();
        Map<Long, Long> offsets = new HashMap<>();
        List<Long> order = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            long cookie;
            do {
                cookie = random.nextLong();
            } while (kinds.containsKey(cookie));
            int kind = i % 4;
            kinds.put(cookie, kind);
            order.add(cookie);
            switch (kind) {
                case 0 -> { // write to a range no other request touches
                    byte[] data = HostileClientTest.pattern(4096, i);
                    long offset = (1L << 20) + i * 4096L;
                    written.put(cookie, data);
                    offsets.put(cookie, offset);
                    c.send(0, CMD_WRITE, cookie, offset, 4096, data);
                }
                case 1 -> { // read what was there before the batch
                    long offset = i * 4096L;
                    offsets.put(cookie, offset);
                    c.send(0, CMD_READ, cookie, offset, 4096, null);
                }
                case 2 -> c.send(0, CMD_BLOCK_STATUS, cookie, 0, 4096, null);
                default -> c.send(0, CMD_FLUSH, cookie, 0, 0, null);
            }
        }
        c.flush(); // all 64 are on the wire before the first reply is read
        Map<Long, Integer> answered = new HashMap<>();
        while (answered.size() < 64) {
            RawNbdClient.Reply r = c.readReply();
            Integer kind = kinds.get(r.cookie());
            if (kind == null) {
                fail("reply for unknown cookie " + r.cookie());
            }
            assertTrue(r.done(), "one chunk per request here");
            assertEquals(null, answered.put(r.cookie(), kind), "second reply for cookie " + r.cookie());
            assertEquals(0, r.errorValue(), "request " + order.indexOf(r.cookie()));
            if (kind == 1) {
                long offset = offsets.get(r.cookie());
                byte[] expected = java.util.Arrays.copyOfRange(before, (int) offset, (int) offset + 4096);
                assertArrayEquals(expected, RawNbdClient.assemble(offset, 4096, List.of(r)));
            } else if (kind == 2) {
                assertEquals(REPLY_TYPE_BLOCK_STATUS, r.type());
            }
        }
        for (Map.Entry<Long, byte[]> w : written.entrySet()) {
            assertArrayEquals(w.getValue(), c.read(offsets.get(w.getKey()), 4096));
        }
    }

    @Test
    void simpleRepliesWithoutStructuredNegotiation() throws IOException {
        try (RawNbdClient simple = RawNbdClient.open(server.port(), "disk", false, false)) {
            assertEquals(0, simple.transmissionFlags() & FLAG_SEND_DF, "DF only with structured replies");
            byte[] data = HostileClientTest.pattern(K64 + 3, 4);
            simple.write(7, data);
            for (int length : new int[] {0, 1, K64 + 3, 1 << 20}) {
                simple.send(0, CMD_READ, 12, 7, length, null);
                List<RawNbdClient.Reply> r = simple.readAll(12);
                assertEquals(1, r.size());
                assertTrue(r.getFirst().simple());
                assertEquals(length, r.getFirst().data().length);
            }
            assertArrayEquals(data, simple.read(7, data.length));
            assertNotEquals(0, simple.command(0, CMD_READ, 13, 64L << 20, 1, null));
            assertArrayEquals(data, simple.read(7, data.length), "no payload after an error reply");
        }
    }

    // ---- helpers ----

    private List<Extent> blockStatus(int flags, long offset, long length) throws IOException {
        return blockStatus(c, flags, offset, length);
    }

    private static List<Extent> blockStatus(RawNbdClient client, int flags, long offset, long length)
            throws IOException {
        client.send(flags, CMD_BLOCK_STATUS, 42, offset, length, null);
        List<Extent> e = extents(client.readAll(42));
        long sum = e.stream().mapToLong(Extent::length).sum();
        assertTrue(sum <= length, "extents cover " + sum + " of " + length);
        return e;
    }

    private static List<Extent> extents(List<RawNbdClient.Reply> replies) {
        assertEquals(1, replies.size(), "one BLOCK_STATUS chunk for one context");
        RawNbdClient.Reply r = replies.getFirst();
        assertEquals(REPLY_TYPE_BLOCK_STATUS, r.type(), "error " + r.errorValue());
        assertEquals(REPLY_FLAG_DONE, r.flags());
        ByteBuffer p = r.payload();
        assertEquals(BASE_ALLOCATION_ID, p.getInt());
        assertEquals(0, p.remaining() % 8);
        assertTrue(p.remaining() >= 8, "at least one extent");
        List<Extent> out = new ArrayList<>();
        while (p.hasRemaining()) {
            out.add(new Extent(Integer.toUnsignedLong(p.getInt()), p.getInt()));
        }
        return out;
    }
}
