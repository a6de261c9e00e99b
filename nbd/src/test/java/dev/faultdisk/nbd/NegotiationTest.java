package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.wire.net.TlsMode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The option state machine, option by option, with exact reply bytes. */
class NegotiationTest {
    private static final int RW_FLAGS = FLAG_HAS_FLAGS
            | FLAG_SEND_FLUSH
            | FLAG_SEND_FUA
            | FLAG_SEND_CACHE
            | FLAG_SEND_TRIM
            | FLAG_SEND_WRITE_ZEROES
            | FLAG_SEND_FAST_ZERO
            | FLAG_CAN_MULTI_CONN;
    /** A read-only export offers no trim and no zeroing. */
    private static final int RO_FLAGS =
            FLAG_HAS_FLAGS | FLAG_READ_ONLY | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_CACHE | FLAG_CAN_MULTI_CONN;

    private final ExportRegistry exports = new ExportRegistry();
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private Export disk;
    private Export ro;
    private Negotiation n;

    /** One decoded option reply. */
    record Rep(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    @BeforeEach
    void setUp() {
        disk = new Export("disk", new MemoryDevice(1 << 20), false);
        ro = new Export("ro", new MemoryDevice(8192), true);
        exports.add(disk);
        exports.add(ro);
        n = new Negotiation(exports, FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES, shuttingDown::get);
    }

    @Test
    void greetingIsExact() {
        ByteBuffer g = Negotiation.greeting();
        assertEquals(18, g.remaining());
        byte[] bytes = new byte[18];
        g.get(bytes);
        assertEquals("NBDMAGICIHAVEOPT", new String(bytes, 0, 16, StandardCharsets.US_ASCII));
        assertEquals(0, bytes[16]);
        assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, bytes[17]);
    }

    @Test
    void clientFlagsBeyondTheTwoKnownAreRejected() {
        for (int ok : new int[] {0, 1, 2, 3}) {
            assertTrue(Negotiation.acceptableClientFlags(ok), "flags " + ok);
        }
        for (int bad : new int[] {4, 8, 0x100, 0x8000_0000, 0xFFFF_FFFF, 7}) {
            assertFalse(Negotiation.acceptableClientFlags(bad), "flags " + bad);
        }
    }

    @Test
    void goReportsExportAndBlockSizesThenAcks() {
        List<Rep> r = handle(OPT_GO, RawNbdClient.goData("disk", new int[0]), Negotiation.Outcome.TRANSMIT);
        assertEquals(3, r.size());
        ByteBuffer info = ByteBuffer.wrap(r.get(0).data());
        assertEquals(REP_INFO, r.get(0).type());
        assertEquals(12, info.remaining());
        assertEquals(INFO_EXPORT, info.getShort());
        assertEquals(1 << 20, info.getLong());
        assertEquals(RW_FLAGS, info.getShort());
        ByteBuffer sizes = ByteBuffer.wrap(r.get(1).data());
        assertEquals(REP_INFO, r.get(1).type());
        assertEquals(14, sizes.remaining());
        assertEquals(INFO_BLOCK_SIZE, sizes.getShort());
        assertEquals(1, sizes.getInt());
        assertEquals(4096, sizes.getInt());
        assertEquals(32 << 20, sizes.getInt());
        assertAck(r.get(2), OPT_GO);
        assertSame(disk, n.export());
        assertEquals(RW_FLAGS, n.transmissionFlags());
        for (Rep rep : r) {
            assertEquals(OPT_GO, rep.option());
        }
    }

    @Test
    void goWithInfoRequestsSendsNameAndDescription() {
        List<Rep> r = handle(
                OPT_GO,
                RawNbdClient.goData("", new int[] {INFO_NAME, INFO_DESCRIPTION, 99}),
                Negotiation.Outcome.TRANSMIT);
        assertEquals(5, r.size());
        assertArrayEquals(
                concat(new byte[] {0, INFO_NAME}, "disk".getBytes(StandardCharsets.UTF_8)),
                r.get(1).data());
        assertArrayEquals(
                concat(new byte[] {0, INFO_DESCRIPTION}, disk.description().getBytes(StandardCharsets.UTF_8)),
                r.get(2).data());
        assertSame(disk, n.export(), "the empty name is the first export");
    }

    @Test
    void infoStaysInNegotiation() {
        List<Rep> r = handle(OPT_INFO, RawNbdClient.goData("ro", new int[0]), Negotiation.Outcome.CONTINUE);
        int flags = ByteBuffer.wrap(r.getFirst().data()).getShort(10);
        assertEquals(RO_FLAGS, flags);
        assertAck(r.getLast(), OPT_INFO);
        assertNull(n.export());
    }

    @Test
    void malformedGoDataIsInvalidAndNegotiationGoesOn() {
        byte[][] bad = {
            new byte[0],
            new byte[] {0, 0, 0}, // short of the name length
            ByteBuffer.allocate(9)
                    .putInt(100)
                    .put("abc".getBytes(StandardCharsets.UTF_8))
                    .putShort((short) 0)
                    .array(),
            ByteBuffer.allocate(6).putInt(-1).putShort((short) 0).array(), // name length 2^32-1
            ByteBuffer.allocate(4).putInt(0).array(), // no info count
            ByteBuffer.allocate(8)
                    .putInt(0)
                    .putShort((short) 2)
                    .putShort((short) 1)
                    .array(), // count 2, one given
            ByteBuffer.allocate(9)
                    .putInt(0)
                    .putShort((short) 0)
                    .put(new byte[3])
                    .array(), // trailing bytes
        };
        for (int option : new int[] {OPT_GO, OPT_INFO}) {
            for (byte[] data : bad) {
                List<Rep> r = handle(option, data, Negotiation.Outcome.CONTINUE);
                assertEquals(1, r.size());
                assertEquals(REP_ERR_INVALID, r.getFirst().type(), "data length " + data.length);
                assertEquals(option, r.getFirst().option());
            }
        }
        assertNull(n.export());
        goToDisk();
    }

    @Test
    void unknownExportIsErrUnknown() {
        for (int option : new int[] {OPT_GO, OPT_INFO}) {
            List<Rep> r = handle(option, RawNbdClient.goData("nope", new int[0]), Negotiation.Outcome.CONTINUE);
            assertEquals(1, r.size());
            assertEquals(REP_ERR_UNKNOWN, r.getFirst().type());
            assertTrue(r.getFirst().text().contains("nope"), r.getFirst().text());
        }
    }

    /**
     * A name of the spec's longest once quoted whole made a message past 4096 bytes, on which
     * libnbd dropped the connection ("option error string too long"); the quote is cut where a
     * character starts.
     */
    @ParameterizedTest
    @CsvSource({"x, 4096", "é, 2048", "€, 1365"})
    void messagesAboutLongNamesStayWithinTheSpecsStrings(String character, int count) throws Exception {
        String name = character.repeat(count);
        enableStructuredReplies();
        List<byte[]> requests = List.of(
                RawNbdClient.goData(name, new int[0]),
                RawNbdClient.goData(name, new int[0]),
                RawNbdClient.metaContextData(name, BASE_ALLOCATION));
        int[] options = {OPT_INFO, OPT_GO, OPT_LIST_META_CONTEXT};
        for (int i = 0; i < options.length; i++) {
            List<Rep> r = handle(options[i], requests.get(i), Negotiation.Outcome.CONTINUE);
            assertEquals(List.of(REP_ERR_UNKNOWN), types(r));
            byte[] message = r.getFirst().data();
            assertTrue(message.length <= 300, "message of " + message.length + " bytes");
            assertTrue(
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .decode(ByteBuffer.wrap(message))
                            .toString()
                            .startsWith("no export named '" + character.repeat(10)),
                    r.getFirst().text());
        }
        goToDisk();
    }

    @Test
    void repliedStringsAreCutToTheSpecsLengthWhereACharacterStarts() {
        assertEquals(3, Negotiation.utf8Within("abc", MAX_STRING).length);
        assertEquals(MAX_STRING, Negotiation.utf8Within("x".repeat(5000), MAX_STRING).length);
        assertEquals(4095, Negotiation.utf8Within("x" + "é".repeat(3000), MAX_STRING).length);
        assertEquals(4095, Negotiation.utf8Within("€".repeat(2000), MAX_STRING).length);
    }

    @Test
    void listNamesEveryExportThenAcks() {
        List<Rep> r = handle(OPT_LIST, new byte[0], Negotiation.Outcome.CONTINUE);
        assertEquals(3, r.size());
        for (int i = 0; i < 2; i++) {
            Export e = exports.all().get(i);
            ByteBuffer b = ByteBuffer.wrap(r.get(i).data());
            assertEquals(REP_SERVER, r.get(i).type());
            byte[] name = new byte[b.getInt()];
            b.get(name);
            assertEquals(e.name(), new String(name, StandardCharsets.UTF_8));
            assertEquals(e.description(), StandardCharsets.UTF_8.decode(b).toString());
        }
        assertAck(r.get(2), OPT_LIST);
    }

    @Test
    void listWithDataIsInvalid() {
        List<Rep> r = handle(OPT_LIST, new byte[] {1}, Negotiation.Outcome.CONTINUE);
        assertEquals(List.of(REP_ERR_INVALID), types(r));
    }

    @Test
    void structuredReplyAcksAndEnablesDf() {
        assertEquals(
                List.of(REP_ERR_INVALID),
                types(handle(OPT_STRUCTURED_REPLY, new byte[] {0}, Negotiation.Outcome.CONTINUE)));
        assertFalse(n.structuredReplies());
        List<Rep> r = handle(OPT_STRUCTURED_REPLY, new byte[0], Negotiation.Outcome.CONTINUE);
        assertAck(r.getFirst(), OPT_STRUCTURED_REPLY);
        assertTrue(n.structuredReplies());
        goToDisk();
        assertEquals(RW_FLAGS | FLAG_SEND_DF, n.transmissionFlags());
    }

    @Test
    void extendedHeadersAckImplyStructuredRepliesAndTakePrecedence() {
        assertEquals(
                List.of(REP_ERR_INVALID),
                types(handle(OPT_EXTENDED_HEADERS, new byte[] {0}, Negotiation.Outcome.CONTINUE)));
        assertFalse(n.extendedHeaders());
        assertAck(
                handle(OPT_EXTENDED_HEADERS, new byte[0], Negotiation.Outcome.CONTINUE)
                        .getFirst(),
                OPT_EXTENDED_HEADERS);
        assertTrue(n.extendedHeaders());
        assertTrue(n.structuredReplies());
        assertEquals(
                List.of(REP_ERR_EXT_HEADER_REQD),
                types(handle(OPT_STRUCTURED_REPLY, new byte[0], Negotiation.Outcome.CONTINUE)),
                "no going back to compact headers");
        assertTrue(n.extendedHeaders());
        assertEquals(
                List.of(REP_ERR_INVALID),
                types(handle(OPT_EXTENDED_HEADERS, new byte[0], Negotiation.Outcome.CONTINUE)),
                "a duplicate, as qemu-nbd 10 answers it");
        assertTrue(n.extendedHeaders());
        assertEquals(List.of(REP_META_CONTEXT, REP_ACK), types(setMetaContext("disk", BASE_ALLOCATION)));
        goToDisk();
        assertTrue(n.baseAllocation());
        assertEquals(
                RW_FLAGS | FLAG_SEND_DF | FLAG_BLOCK_STATUS_PAYLOAD,
                n.transmissionFlags(),
                "a context and extended headers: block status payloads too");
    }

    @Test
    void aDuplicateStructuredReplyIsInvalidAndChangesNothing() {
        enableStructuredReplies();
        assertEquals(
                List.of(REP_ERR_INVALID),
                types(handle(OPT_STRUCTURED_REPLY, new byte[0], Negotiation.Outcome.CONTINUE)),
                "as nbdkit and qemu-nbd answer it");
        assertTrue(n.structuredReplies());
        goToDisk();
        assertEquals(RW_FLAGS | FLAG_SEND_DF, n.transmissionFlags());
    }

    @Test
    void exportNameAfterExtendedHeadersClosesWithoutReply() {
        handle(OPT_EXTENDED_HEADERS, new byte[0], Negotiation.Outcome.CONTINUE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(Negotiation.Outcome.CLOSE, n.handle(OPT_EXPORT_NAME, bytes("disk"), out));
        assertEquals(0, out.size(), "its reply has no room for extended headers");
    }

    @Test
    void extendedHeadersAfterStructuredRepliesAreTakenToo() {
        enableStructuredReplies();
        assertAck(
                handle(OPT_EXTENDED_HEADERS, new byte[0], Negotiation.Outcome.CONTINUE)
                        .getFirst(),
                OPT_EXTENDED_HEADERS);
        assertTrue(n.extendedHeaders());
    }

    @Test
    void setMetaContextBeforeStructuredRepliesIsInvalid() {
        List<Rep> r = setMetaContext("disk", BASE_ALLOCATION);
        assertEquals(List.of(REP_ERR_INVALID), types(r));
        enableStructuredReplies();
        goToDisk();
        assertFalse(n.baseAllocation());
    }

    @Test
    void setMetaContextSelectsBaseAllocationWithId() {
        enableStructuredReplies();
        List<Rep> r = setMetaContext("disk", "qemu:dirty-bitmap:x", BASE_ALLOCATION, "base:");
        assertEquals(List.of(REP_META_CONTEXT, REP_ACK), types(r));
        assertArrayEquals(
                concat(new byte[] {0, 0, 0, BASE_ALLOCATION_ID}, "base:allocation".getBytes(StandardCharsets.UTF_8)),
                r.getFirst().data());
        goToDisk();
        assertTrue(n.baseAllocation());
    }

    @Test
    void setMetaContextWithOnlyTheWildcardSelectsNothing() {
        enableStructuredReplies();
        List<Rep> r = setMetaContext("disk", "base:");
        assertEquals(List.of(REP_ACK), types(r));
        goToDisk();
        assertFalse(n.baseAllocation());
    }

    /** Contexts set for another export are dropped; those set for the default name carry to its export. */
    @ParameterizedTest(name = "set for \"{0}\", then GO disk: selected {1}")
    @CsvSource({"ro, false", "'', true"})
    void contextsSetCarryOnlyToTheExportTheyWereSetFor(String setFor, boolean selected) {
        enableStructuredReplies();
        setMetaContext(setFor, BASE_ALLOCATION);
        goToDisk();
        assertEquals(selected, n.baseAllocation());
    }

    @Test
    void listMetaContextWithoutQueriesListsBaseAllocationWithIdZero() {
        List<Rep> r = handle(OPT_LIST_META_CONTEXT, RawNbdClient.metaContextData("disk"), Negotiation.Outcome.CONTINUE);
        assertEquals(List.of(REP_META_CONTEXT, REP_ACK), types(r));
        assertEquals(0, ByteBuffer.wrap(r.getFirst().data()).getInt());
        r = handle(
                OPT_LIST_META_CONTEXT,
                RawNbdClient.metaContextData("disk", "qemu:allocation-depth"),
                Negotiation.Outcome.CONTINUE);
        assertEquals(List.of(REP_ACK), types(r));
    }

    @Test
    void malformedMetaContextDataIsInvalid() {
        enableStructuredReplies();
        byte[] good = RawNbdClient.metaContextData("disk", BASE_ALLOCATION);
        byte[][] bad = {
            new byte[0],
            java.util.Arrays.copyOf(good, good.length - 1), // query cut short
            java.util.Arrays.copyOf(good, good.length + 1), // trailing byte
            ByteBuffer.allocate(8).putInt(4).putInt(0).array(), // name length past the end
            ByteBuffer.allocate(8).putInt(-2).putInt(0).array(), // negative name length
            ByteBuffer.allocate(12).putInt(0).putInt(-1).putInt(0).array(), // negative query count
            ByteBuffer.allocate(12).putInt(0).putInt(2).putInt(0).array(), // two queries, one given
            ByteBuffer.allocate(12).putInt(0).putInt(1).putInt(100).array(), // query length past the end
        };
        for (int option : new int[] {OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT}) {
            for (byte[] data : bad) {
                List<Rep> r = handle(option, data, Negotiation.Outcome.CONTINUE);
                assertEquals(List.of(REP_ERR_INVALID), types(r), "option " + option + ", data length " + data.length);
            }
        }
        assertFalse(n.baseAllocation());
    }

    @Test
    void metaContextForUnknownExportIsErrUnknown() {
        enableStructuredReplies();
        for (int option : new int[] {OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT}) {
            List<Rep> r =
                    handle(option, RawNbdClient.metaContextData("nope", BASE_ALLOCATION), Negotiation.Outcome.CONTINUE);
            assertEquals(List.of(REP_ERR_UNKNOWN), types(r));
        }
    }

    @Test
    void unknownOptionsAreUnsupportedAndNegotiationGoesOn() {
        for (int option : new int[] {42, 12, 4, 0, -1}) {
            List<Rep> r = handle(option, new byte[] {1, 2, 3}, Negotiation.Outcome.CONTINUE);
            assertEquals(1, r.size());
            assertEquals(option, r.getFirst().option());
            assertEquals(REP_ERR_UNSUP, r.getFirst().type());
        }
        goToDisk();
    }

    @Test
    void startTlsWithTlsOffIsRefusedByPolicy() {
        List<Rep> r = handle(OPT_STARTTLS, new byte[0], Negotiation.Outcome.CONTINUE);
        assertEquals(List.of(REP_ERR_POLICY), types(r));
        goToDisk();
    }

    @Test
    void requireAnswersEveryOptionButStartTlsAndAbortWithTlsRequired() {
        n = new Negotiation(exports, FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES, shuttingDown::get, TlsMode.REQUIRE);
        for (int option : new int[] {OPT_LIST, OPT_INFO, OPT_GO, OPT_STRUCTURED_REPLY, 42}) {
            assertEquals(List.of(REP_ERR_TLS_REQD), types(handle(option, new byte[0], Negotiation.Outcome.CONTINUE)));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(Negotiation.Outcome.CLOSE, n.handle(OPT_EXPORT_NAME, bytes("disk"), out));
        assertEquals(0, out.size());
        assertEquals(
                List.of(REP_ERR_INVALID), types(handle(OPT_STARTTLS, new byte[] {1}, Negotiation.Outcome.CONTINUE)));
        assertAck(
                handle(OPT_STARTTLS, new byte[0], Negotiation.Outcome.START_TLS).getFirst(), OPT_STARTTLS);
        n.tlsStarted();
        assertEquals(List.of(REP_ERR_INVALID), types(handle(OPT_STARTTLS, new byte[0], Negotiation.Outcome.CONTINUE)));
        goToDisk();
    }

    @Test
    void startingTlsForgetsWhatPlaintextNegotiated() {
        n = new Negotiation(exports, FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES, shuttingDown::get, TlsMode.ON);
        handle(OPT_EXTENDED_HEADERS, new byte[0], Negotiation.Outcome.CONTINUE);
        assertTrue(n.structuredReplies());
        assertTrue(n.extendedHeaders());
        handle(OPT_STARTTLS, new byte[0], Negotiation.Outcome.START_TLS);
        n.tlsStarted();
        assertFalse(n.structuredReplies());
        assertFalse(n.extendedHeaders());
    }

    @Test
    void exportNameOfUnknownExportClosesWithoutReply() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(Negotiation.Outcome.CLOSE, n.handle(OPT_EXPORT_NAME, bytes("nope"), out));
        assertEquals(0, out.size());
    }

    @Test
    void exportNameRepliesSizeAndFlagsWithOrWithoutZeroes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(Negotiation.Outcome.TRANSMIT, n.handle(OPT_EXPORT_NAME, bytes("ro"), out));
        ByteBuffer b = ByteBuffer.wrap(out.toByteArray());
        assertEquals(10, b.remaining());
        assertEquals(8192, b.getLong());
        assertEquals(RO_FLAGS, b.getShort());

        Negotiation zeroes = new Negotiation(exports, FLAG_C_FIXED_NEWSTYLE, shuttingDown::get);
        out.reset();
        assertEquals(Negotiation.Outcome.TRANSMIT, zeroes.handle(OPT_EXPORT_NAME, bytes(""), out));
        byte[] reply = out.toByteArray();
        assertEquals(8 + 2 + 124, reply.length);
        assertEquals(1 << 20, ByteBuffer.wrap(reply).getLong());
        for (int i = 10; i < reply.length; i++) {
            assertEquals(0, reply[i]);
        }
    }

    @Test
    void abortAcksAndCloses() {
        List<Rep> r = handle(OPT_ABORT, new byte[0], Negotiation.Outcome.CLOSE);
        assertAck(r.getFirst(), OPT_ABORT);
    }

    @Test
    void shuttingDownRefusesOptionsButAbortStillAcks() {
        shuttingDown.set(true);
        for (int option : new int[] {OPT_GO, OPT_LIST, OPT_INFO, 42}) {
            assertEquals(
                    List.of(REP_ERR_SHUTDOWN),
                    types(handle(option, RawNbdClient.goData("disk", new int[0]), Negotiation.Outcome.CONTINUE)));
        }
        assertEquals(Negotiation.Outcome.CLOSE, n.handle(OPT_EXPORT_NAME, bytes("disk"), new ByteArrayOutputStream()));
        assertAck(handle(OPT_ABORT, new byte[0], Negotiation.Outcome.CLOSE).getFirst(), OPT_ABORT);
    }

    // ---- helpers ----

    private void enableStructuredReplies() {
        handle(OPT_STRUCTURED_REPLY, new byte[0], Negotiation.Outcome.CONTINUE);
    }

    private List<Rep> setMetaContext(String export, String... queries) {
        return handle(
                OPT_SET_META_CONTEXT, RawNbdClient.metaContextData(export, queries), Negotiation.Outcome.CONTINUE);
    }

    private void goToDisk() {
        handle(OPT_GO, RawNbdClient.goData("disk", new int[0]), Negotiation.Outcome.TRANSMIT);
    }

    private List<Rep> handle(int option, byte[] data, Negotiation.Outcome expected) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(expected, n.handle(option, ByteBuffer.wrap(data), out), "outcome of option " + option);
        return parse(out.toByteArray());
    }

    private static List<Rep> parse(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        List<Rep> out = new ArrayList<>();
        while (b.hasRemaining()) {
            assertEquals(OPTION_REPLY_MAGIC, b.getLong());
            int option = b.getInt();
            int type = b.getInt();
            byte[] data = new byte[b.getInt()];
            b.get(data);
            out.add(new Rep(option, type, data));
        }
        return out;
    }

    private static List<Integer> types(List<Rep> replies) {
        return replies.stream().map(Rep::type).toList();
    }

    private static void assertAck(Rep r, int option) {
        assertEquals(option, r.option());
        assertEquals(REP_ACK, r.type());
        assertEquals(0, r.data().length);
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
