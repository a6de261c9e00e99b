package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extended headers on the wire: 32-byte requests with 64-bit lengths, and every reply an extended
 * chunk carrying the request's offset (no simple replies), block status as BLOCK_STATUS_EXT with
 * 64-bit extents, and the payload flag's rules (a payload is consumed whatever is wrong with its
 * request, too large a one ends the connection), block status payloads filtering the contexts
 * answered for among them.
 */
class ExtendedHeadersTest implements ServerUnderTest {
    private static final long GIB = 1L << 30;
    private static final int HOLE_ZERO = 3;

    private LocalServer server;
    private RawNbdClient c;

    /** One BLOCK_STATUS_EXT descriptor. */
    record Extent(long length, int flags) {}

    @BeforeEach
    void setUp() throws IOException {
        server = newServer("disk=memory:64M", "big=memory:16T");
        c = server.openExtended("big");
    }

    @AfterEach
    void tearDown() throws IOException {
        c.close();
        server.close();
    }

    @Test
    void everyReplyIsAnExtendedChunkCarryingTheRequestsOffset() throws IOException {
        byte[] data = HostileClientTest.pattern(4096, 7);
        long at = 3 * GIB + 512;
        c.send(0, CMD_WRITE, 11, at, data.length, data);
        RawNbdClient.Reply write = only(c.readAll(11));
        assertEquals(REPLY_TYPE_NONE, write.type());
        assertEquals(REPLY_FLAG_DONE, write.flags());
        assertEquals(at, write.offset());
        assertEquals(0, write.data().length);

        c.send(0, CMD_READ, 12, at, data.length, null);
        assertOneDataChunk(c.readAll(12), at, data);

        c.send(0, CMD_READ, 13, 9 * GIB, 1 << 20, null);
        RawNbdClient.Reply hole = only(c.readAll(13));
        assertEquals(REPLY_TYPE_OFFSET_HOLE, hole.type());
        assertEquals(9 * GIB, hole.offset());
        assertEquals(9 * GIB, hole.payload().getLong());
        assertEquals(1 << 20, hole.payload().getInt(8));

        c.send(0, CMD_FLUSH, 14, 0, 0, null);
        RawNbdClient.Reply flush = only(c.readAll(14));
        assertEquals(REPLY_TYPE_NONE, flush.type());
        assertEquals(0, flush.offset());
    }

    @Test
    void aLargeReadOfAnImageLeavesFromTheFileUnderAnExtendedHeader(@TempDir Path dir) throws IOException {
        byte[] content = new byte[8 << 20];
        new SplittableRandom(0xe7).nextBytes(content);
        Path image = dir.resolve("disk.img");
        Files.write(image, content);
        try (LocalServer files = newServer("image=" + image + ",readonly");
                RawNbdClient fc = files.openExtended("image")) {
            long sentBefore = files.server().readsSentFromFile();
            long at = (1 << 20) + 512;
            int length = 2 << 20;
            fc.send(0, CMD_READ, 15, at, length, null);
            assertOneDataChunk(fc.readAll(15), at, Arrays.copyOfRange(content, (int) at, (int) at + length));
            if (!offReader()) { // off the reader a read goes through a buffer
                assertEquals(1, files.server().readsSentFromFile() - sentBefore, "straight from the file");
            }
        }
    }

    @Test
    void errorsAreErrorChunksWithAMessageForEveryCommand() throws IOException {
        long end = c.exportSize();
        c.send(0, CMD_WRITE, 21, end, 512, new byte[512]);
        RawNbdClient.Reply write = only(c.readAll(21));
        assertEquals(REPLY_TYPE_ERROR, write.type());
        assertEquals(end, write.offset());
        assertEquals(ENOSPC, write.errorValue());
        assertTrue(message(write).contains("past the end"), message(write));

        c.send(0, CMD_TRIM, 22, end - 4096, 8192, null);
        RawNbdClient.Reply trim = only(c.readAll(22));
        assertEquals(REPLY_TYPE_ERROR, trim.type());
        assertEquals(EINVAL, trim.errorValue());

        c.send(0x8000, CMD_FLUSH, 23, 0, 0, null);
        assertEquals(EINVAL, only(c.readAll(23)).errorValue());
        server.assertServes(c);
    }

    @Test
    void effectLengthsOfMoreThan32BitsReachTheDevice() throws IOException {
        byte[] data = HostileClientTest.pattern(8192, 3);
        c.write(6 * GIB, data);
        c.write(13 * GIB, data);
        assertEquals(0, c.command(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 31, 4 * GIB, 5 * GIB, null));
        assertArrayEquals(new byte[8192], c.read(6 * GIB, 8192), "zeroed across 4-9 GiB");
        assertArrayEquals(data, c.read(13 * GIB, 8192), "untouched past the zeroes");
        assertEquals(0, c.command(0, CMD_TRIM, 32, 10 * GIB, 6 * GIB, null));
        assertArrayEquals(new byte[8192], c.read(13 * GIB, 8192), "trimmed across 10-16 GiB");
        assertEquals(0, c.command(0, CMD_CACHE, 33, 0, 8 * GIB, null));
    }

    @Test
    void blockStatusAnswersInOneChunkOfSixtyFourBitExtents() throws IOException {
        byte[] data = HostileClientTest.pattern(1 << 20, 5);
        c.write(5 * GIB, data);
        long size = c.exportSize();
        List<Extent> whole = blockStatus(0, 0, size);
        assertEquals(
                List.of(
                        new Extent(5 * GIB, HOLE_ZERO),
                        new Extent(1 << 20, 0),
                        new Extent(size - 5 * GIB - (1 << 20), HOLE_ZERO)),
                whole,
                "16 TiB in three extents, two of them past 32 bits");
        assertEquals(List.of(new Extent(5 * GIB, HOLE_ZERO)), blockStatus(CMD_FLAG_REQ_ONE, 0, 8 * GIB));
        assertEquals(List.of(new Extent(100, HOLE_ZERO)), blockStatus(CMD_FLAG_REQ_ONE, 0, 100));
    }

    @Test
    void aWriteCarriesItsPayloadWithThePayloadFlagOrWithout() throws IOException {
        byte[] a = HostileClientTest.pattern(4096, 1);
        byte[] b = HostileClientTest.pattern(4096, 2);
        assertEquals(0, c.command(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 41, 0, a.length, a)); // libnbd's way
        assertEquals(0, c.command(CMD_FLAG_FUA, CMD_WRITE, 42, 4096, b.length, b)); // QEMU's way
        byte[] both = c.read(0, 8192);
        assertArrayEquals(a, Arrays.copyOfRange(both, 0, 4096));
        assertArrayEquals(b, Arrays.copyOfRange(both, 4096, 8192));
    }

    @Test
    void aPayloadOnACommandThatTakesNoneIsConsumedAndRefused() throws IOException {
        for (int type : new int[] {CMD_TRIM, CMD_READ, CMD_WRITE_ZEROES, CMD_BLOCK_STATUS, CMD_FLUSH, 42}) {
            byte[] payload = new byte[512];
            Arrays.fill(payload, (byte) 0x77); // taken for a request header, it would be a bad magic
            c.send(CMD_FLAG_PAYLOAD_LEN, type, 50 + type, 0, payload.length, payload);
            assertEquals(EINVAL, RawNbdClient.errorOf(c.readAll(50 + type)), "command " + type);
        }
        server.assertServes(c);
    }

    @Test
    void unsignedLengthsBeyondAnyExportAreRefusedAndTheConnectionGoesOn() throws IOException {
        for (int type : new int[] {CMD_TRIM, CMD_WRITE_ZEROES, CMD_BLOCK_STATUS, CMD_CACHE}) {
            for (long length : new long[] {Long.MIN_VALUE, -1L, Long.MAX_VALUE}) {
                int error = c.command(0, type, 60, 4096, length, null);
                assertTrue(error == EINVAL || error == ENOSPC, "command " + type + " length " + length + ": " + error);
            }
        }
        assertEquals(EOVERFLOW, c.command(0, CMD_READ, 61, 0, -1L, null));
        server.assertServes(c);
    }

    @Test
    void aPayloadPastTheLimitOrOfMoreThan63BitsEndsTheConnection() throws IOException {
        for (long length : new long[] {-4096L, 1L << 40}) {
            try (RawNbdClient bad = server.openExtended("disk")) {
                bad.send(CMD_FLAG_PAYLOAD_LEN, CMD_TRIM, 70, 0, length, null);
                assertClosed(bad, "payload of " + Long.toUnsignedString(length));
            }
        }
        server.assertServesNewClient("disk");
    }

    @Test
    void aCompactRequestOnAnExtendedConnectionEndsIt() throws IOException {
        try (RawNbdClient bad = server.openExtended("disk")) {
            bad.extended(false); // the headers go out compact: the server reads a bad magic
            bad.send(0, CMD_FLUSH, 80, 0, 0, null);
            bad.send(0, CMD_FLUSH, 81, 0, 0, null); // 56 bytes: more than an extended header
            assertClosed(bad, "a compact request");
        }
        server.assertServesNewClient("disk");
    }

    @Test
    void optionsAroundExtendedHeadersGetTheSpecsAnswers() throws IOException {
        try (RawNbdClient n = RawNbdClient.connect(server.port())) {
            n.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            assertEquals(
                    REP_ERR_INVALID,
                    n.option(OPT_EXTENDED_HEADERS, new byte[1]).getLast().type());
            assertEquals(
                    REP_ACK,
                    n.option(OPT_EXTENDED_HEADERS, new byte[0]).getLast().type());
            assertEquals(
                    REP_ERR_EXT_HEADER_REQD,
                    n.option(OPT_STRUCTURED_REPLY, new byte[0]).getLast().type());
            n.expectAck(n.go("disk"));
            assertTrue((n.transmissionFlags() & FLAG_SEND_DF) != 0, "extended headers imply structured replies");
            n.extended(true);
            server.assertServes(n);
        }
    }

    @Test
    void blockStatusPayloadsAreOfferedUnderExtendedHeadersWhereAContextWasNegotiated() throws IOException {
        assertTrue((c.transmissionFlags() & FLAG_BLOCK_STATUS_PAYLOAD) != 0, "extended headers and base:allocation");
        try (RawNbdClient noContext = RawNbdClient.connect(server.port());
                RawNbdClient compact = RawNbdClient.open(server.port(), "disk", true, true);
                RawNbdClient otherExport = RawNbdClient.connect(server.port())) {
            noContext.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            noContext.expectAck(noContext.option(OPT_EXTENDED_HEADERS, new byte[0]));
            assertTrue(
                    (infoFlags(noContext, "disk") & FLAG_BLOCK_STATUS_PAYLOAD) != 0,
                    "INFO tells it whenever extended headers are on, as contexts may come later");
            noContext.expectAck(noContext.go("disk"));
            assertEquals(0, noContext.transmissionFlags() & FLAG_BLOCK_STATUS_PAYLOAD, "GO without a context");
            noContext.extended(true);
            byte[] filter = statusFilter(4096, BASE_ALLOCATION_ID);
            noContext.send(CMD_FLAG_PAYLOAD_LEN, CMD_BLOCK_STATUS, 91, 0, filter.length, filter);
            assertEquals(EINVAL, RawNbdClient.errorOf(noContext.readAll(91)), "a filter where none is offered");
            server.assertServes(noContext);

            assertEquals(0, compact.transmissionFlags() & FLAG_BLOCK_STATUS_PAYLOAD, "structured replies alone");

            otherExport.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            otherExport.expectAck(otherExport.option(OPT_EXTENDED_HEADERS, new byte[0]));
            otherExport.expectAck(
                    otherExport.option(OPT_SET_META_CONTEXT, RawNbdClient.metaContextData("big", BASE_ALLOCATION)));
            otherExport.expectAck(otherExport.go("disk"));
            assertEquals(
                    0,
                    otherExport.transmissionFlags() & FLAG_BLOCK_STATUS_PAYLOAD,
                    "the context was negotiated for another export");
        }
    }

    @Test
    void aFilteredBlockStatusAnswersForTheContextItNamesOverItsEffectLength() throws IOException {
        byte[] data = HostileClientTest.pattern(1 << 20, 9);
        c.write(5 * GIB, data);
        long size = c.exportSize();
        assertEquals(blockStatus(0, 0, size), filteredBlockStatus(0, 0, size), "the whole export, as unfiltered");
        assertEquals(
                List.of(new Extent(1 << 20, 0), new Extent(GIB - (1 << 20), HOLE_ZERO)),
                filteredBlockStatus(0, 5 * GIB, GIB));
        assertEquals(List.of(new Extent(4 * GIB, HOLE_ZERO)), filteredBlockStatus(CMD_FLAG_REQ_ONE, GIB, 1L << 40));
        server.assertServes(c);
    }

    @Test
    void filtersTheSpecRefusesAreConsumedAndRefusedAndTheConnectionGoesOn() throws IOException {
        long size = c.exportSize();
        Map<String, byte[]> refused = new LinkedHashMap<>();
        refused.put("no context id", statusFilter(4096));
        refused.put("a context never offered", statusFilter(4096, 2));
        refused.put("id 0", statusFilter(4096, 0));
        refused.put("base:allocation twice", statusFilter(4096, BASE_ALLOCATION_ID, BASE_ALLOCATION_ID));
        refused.put("ten bytes", Arrays.copyOf(statusFilter(4096, BASE_ALLOCATION_ID), 10));
        refused.put("four bytes", new byte[4]);
        refused.put("an effect length of zero", statusFilter(0, BASE_ALLOCATION_ID));
        refused.put("an effect length past the end", statusFilter(size, BASE_ALLOCATION_ID));
        refused.put("an effect length of 2^64 - 1", statusFilter(-1L, BASE_ALLOCATION_ID));
        byte[] long4k = new byte[4096];
        Arrays.fill(long4k, (byte) 0x77); // taken for a request header, a bad magic
        refused.put("4 KiB", long4k);
        int cookie = 100;
        for (Map.Entry<String, byte[]> e : refused.entrySet()) {
            byte[] p = e.getValue();
            c.send(CMD_FLAG_PAYLOAD_LEN, CMD_BLOCK_STATUS, ++cookie, 4096, p.length, p);
            List<RawNbdClient.Reply> replies = c.readAll(cookie);
            assertEquals(EINVAL, RawNbdClient.errorOf(replies), e.getKey());
            assertFalse(message(only(replies)).isEmpty(), e.getKey() + ": the error says why");
        }
        assertEquals(List.of(new Extent(4096, HOLE_ZERO)), filteredBlockStatus(0, 4096, 4096), "then a good one");
        server.assertServes(c);
    }

    /** A block status payload: the effect length, then context ids. */
    private static byte[] statusFilter(long effectLength, int... ids) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 * ids.length).putLong(effectLength);
        for (int id : ids) {
            b.putInt(id);
        }
        return b.array();
    }

    private List<Extent> filteredBlockStatus(int flags, long offset, long length) throws IOException {
        byte[] filter = statusFilter(length, BASE_ALLOCATION_ID);
        return blockStatus(flags | CMD_FLAG_PAYLOAD_LEN, offset, filter.length, filter);
    }

    /** The transmission flags an INFO for {@code export} tells, in negotiation. */
    private static int infoFlags(RawNbdClient n, String export) throws IOException {
        for (RawNbdClient.OptionReply r : n.option(OPT_INFO, RawNbdClient.goData(export, new int[0]))) {
            ByteBuffer b = ByteBuffer.wrap(r.data());
            if (r.type() == REP_INFO && b.getShort(0) == INFO_EXPORT) {
                return Short.toUnsignedInt(b.getShort(10));
            }
        }
        throw new AssertionError("no INFO_EXPORT");
    }

    private List<Extent> blockStatus(int flags, long offset, long length) throws IOException {
        return blockStatus(flags, offset, length, null);
    }

    private List<Extent> blockStatus(int flags, long offset, long length, byte[] payload) throws IOException {
        c.send(flags, CMD_BLOCK_STATUS, 90, offset, length, payload);
        RawNbdClient.Reply r = only(c.readAll(90));
        assertEquals(REPLY_TYPE_BLOCK_STATUS_EXT, r.type());
        assertEquals(offset, r.offset());
        ByteBuffer p = r.payload();
        assertEquals(BASE_ALLOCATION_ID, p.getInt());
        int count = p.getInt();
        assertEquals(p.remaining(), count * 16, "the descriptor count matches the payload");
        List<Extent> extents = new ArrayList<>();
        while (p.hasRemaining()) {
            long length64 = p.getLong();
            assertEquals(0, p.getInt(), "padding");
            extents.add(new Extent(length64, p.getInt()));
        }
        return extents;
    }

    /** The server closed the connection (not merely left it silent until the client's timeout). */
    private static void assertClosed(RawNbdClient client, String after) {
        IOException e = assertThrows(IOException.class, client::readReply, after);
        assertFalse(e instanceof SocketTimeoutException, after + ": the server went silent, not away: " + e);
    }

    /** A read's reply: one OFFSET_DATA chunk at {@code at} (in its header and its payload) holding {@code data}. */
    private static void assertOneDataChunk(List<RawNbdClient.Reply> replies, long at, byte[] data) {
        RawNbdClient.Reply read = only(replies);
        assertEquals(REPLY_TYPE_OFFSET_DATA, read.type());
        assertEquals(at, read.offset());
        ByteBuffer p = read.payload();
        assertEquals(at, p.getLong());
        byte[] got = new byte[p.remaining()];
        p.get(got);
        assertArrayEquals(data, got);
    }

    private static RawNbdClient.Reply only(List<RawNbdClient.Reply> replies) {
        assertEquals(1, replies.size(), replies.toString());
        return replies.getFirst();
    }

    private static String message(RawNbdClient.Reply error) {
        ByteBuffer p = error.payload();
        int length = Short.toUnsignedInt(p.getShort(4));
        return new String(error.data(), 6, length, StandardCharsets.UTF_8);
    }
}
