package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients that break the protocol against a running server. Each test checks the spec's answer
 * to the bad client, and (before and after, see setUp and tearDown) that a well-behaved client on
 * another connection is still served, on the connection it already had and on a new one.
 */
class HostileClientTest implements ServerUnderTest {
    private static final long SIZE = 64L << 20;

    private LocalServer server;
    private RawNbdClient bystander;

    @BeforeEach
    void setUp() throws IOException {
        server = newServer("disk=memory:64M", "ro=memory:1M,readonly");
        bystander = server.open("disk");
        server.assertServes(bystander);
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            server.assertServes(bystander);
            server.assertServesNewClient("disk");
            bystander.close();
        } finally {
            server.close();
        }
    }

    @Test
    void garbageInsteadOfAHandshakeIsDropped() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.sendRaw("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(c.isDropped());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8, 0x8000_0000, 0xFFFF_FFFF, 1 | 4})
    void unknownClientFlagsAreDropped(int flags) throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(flags);
            assertTrue(c.isDropped());
        }
    }

    @Test
    void badOptionMagicIsDropped() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            c.expectAck(c.option(OPT_STRUCTURED_REPLY, new byte[0]));
            c.sendOptionHeader(0x49484156454F5055L, OPT_GO, 0);
            assertTrue(c.isDropped());
        }
    }

    @Test
    void optionWith100KiBOfDataIsTooBigAndNegotiationGoesOn() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            List<RawNbdClient.OptionReply> r = c.option(OPT_GO, new byte[100 * 1024]);
            assertEquals(1, r.size());
            assertEquals(OPT_GO, r.getFirst().option());
            assertEquals(REP_ERR_TOO_BIG, r.getFirst().type());
            c.expectAck(c.option(OPT_STRUCTURED_REPLY, new byte[0]));
            c.expectAck(c.go("disk"));
            server.assertServes(c);
        }
    }

    @Test
    void optionDeclaring1GiBOfDataIsDropped() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            c.sendOptionHeader(IHAVEOPT, OPT_GO, 1L << 30);
            c.sendZeroes(64 * 1024);
            assertTrue(c.isDropped());
        }
    }

    @Test
    void exportNameWith100KiBIsDropped() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            c.sendOption(OPT_EXPORT_NAME, new byte[100 * 1024]);
            assertTrue(c.isDropped());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void requestsPastTheEndGetEinvalOrEnospcAndTheStreamStaysInSync(boolean structured) throws IOException {
        try (RawNbdClient c = RawNbdClient.open(server.port(), "disk", structured, structured)) {
            long[][] ranges = {{SIZE, 1}, {SIZE - 512, 1024}, {SIZE + 4096, 4096}, {0, SIZE + 1}};
            long cookie = 100;
            for (long[] range : ranges) {
                long offset = range[0];
                long length = range[1];
                // A read longer than the maximum payload is EOVERFLOW whatever its range.
                int readError = length > MAX_PAYLOAD ? EOVERFLOW : EINVAL;
                assertEquals(readError, c.command(0, CMD_READ, ++cookie, offset, length, null), "READ " + offset);
                assertEquals(EINVAL, c.command(0, CMD_TRIM, ++cookie, offset, length, null), "TRIM " + offset);
                assertEquals(EINVAL, c.command(0, CMD_CACHE, ++cookie, offset, length, null), "CACHE " + offset);
                assertEquals(
                        ENOSPC,
                        c.command(0, CMD_WRITE_ZEROES, ++cookie, offset, length, null),
                        "WRITE_ZEROES " + offset);
                if (length <= MAX_PAYLOAD) {
                    // The payload is skipped: the next request is read from the right place.
                    assertEquals(
                            ENOSPC,
                            c.command(0, CMD_WRITE, ++cookie, offset, length, new byte[(int) length]),
                            "WRITE " + offset);
                }
                if (structured) {
                    assertEquals(
                            EINVAL,
                            c.command(0, CMD_BLOCK_STATUS, ++cookie, offset, length, null),
                            "BLOCK_STATUS " + offset);
                }
                server.assertServes(c);
            }
            // Zero-length requests at the very end are in range.
            assertEquals(0, c.command(0, CMD_WRITE, ++cookie, SIZE, 0, new byte[0]));
            assertEquals(0, c.command(0, CMD_TRIM, ++cookie, SIZE, 0, null));
            // The last byte is in range.
            assertEquals(0, c.command(0, CMD_WRITE, ++cookie, SIZE - 1, 1, new byte[] {7}));
            assertArrayEquals(new byte[] {7}, c.read(SIZE - 1, 1));
        }
    }

    @Test
    void offsetsNear2To63AndLengthsThatWrapAreRejected() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            long[] offsets = {Long.MAX_VALUE, Long.MAX_VALUE - 100, Long.MIN_VALUE, -1L, -4096L};
            long cookie = 1;
            for (long offset : offsets) {
                assertEquals(EINVAL, c.command(0, CMD_READ, ++cookie, offset, 4096, null), "READ " + offset);
                assertEquals(EINVAL, c.command(0, CMD_TRIM, ++cookie, offset, 4096, null), "TRIM " + offset);
                assertEquals(
                        EINVAL, c.command(0, CMD_BLOCK_STATUS, ++cookie, offset, 4096, null), "BLOCK_STATUS " + offset);
                assertEquals(ENOSPC, c.command(0, CMD_WRITE_ZEROES, ++cookie, offset, 0xFFFF_FFFFL, null));
                assertEquals(
                        ENOSPC, c.command(0, CMD_WRITE, ++cookie, offset, 4096, new byte[4096]), "WRITE " + offset);
            }
            // offset + length would wrap to a small number if added naively.
            assertEquals(EINVAL, c.command(0, CMD_READ, ++cookie, SIZE - 1, 4096, null));
            assertEquals(EINVAL, c.command(0, CMD_TRIM, ++cookie, SIZE - 1, 0xFFFF_FFFFL, null));
            assertEquals(ENOSPC, c.command(0, CMD_WRITE_ZEROES, ++cookie, SIZE - 1, 0xFFFF_FFFFL, null));
            server.assertServes(c);
        }
    }

    @Test
    void writePayloadOver32MiBIsSkippedWithEinval() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            int length = MAX_PAYLOAD + 1;
            c.send(0, CMD_WRITE, 5, 0, length, null);
            c.sendZeroes(length);
            assertEquals(List.of(EINVAL), List.of(RawNbdClient.errorOf(c.readAll(5))));
            server.assertServes(c);
            // Exactly the maximum is served.
            byte[] max = new byte[MAX_PAYLOAD];
            max[0] = 1;
            max[MAX_PAYLOAD - 1] = 2;
            assertEquals(0, c.command(0, CMD_WRITE, 6, SIZE - MAX_PAYLOAD, MAX_PAYLOAD, max));
            assertArrayEquals(max, c.read(SIZE - MAX_PAYLOAD, MAX_PAYLOAD));
        }
    }

    @Test
    void hugeWritePayloadIsDropped() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            c.send(0, CMD_WRITE, 5, 0, 0xFFFF_FFFFL, null);
            c.sendZeroes(64 * 1024);
            assertTrue(c.isDropped());
        }
    }

    @Test
    void readOver32MiBIsEoverflow() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            assertEquals(EOVERFLOW, c.command(0, CMD_READ, 9, 0, MAX_PAYLOAD + 1, null));
            server.assertServes(c);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void unknownCommandsAndFlagsAreEinval(boolean structured) throws IOException {
        try (RawNbdClient c = RawNbdClient.open(server.port(), "disk", structured, structured)) {
            assertEquals(EINVAL, c.command(0, 99, 1, 0, 4096, null));
            assertEquals(EINVAL, c.command(0, 8, 2, 0, 0, null)); // RESIZE is not offered
            assertEquals(EINVAL, c.command(1 << 15, CMD_READ, 3, 0, 512, null));
            assertEquals(EINVAL, c.command(CMD_FLAG_REQ_ONE, CMD_READ, 4, 0, 512, null));
            assertEquals(EINVAL, c.command(CMD_FLAG_NO_HOLE, CMD_TRIM, 5, 0, 512, null));
            assertEquals(EINVAL, c.command(CMD_FLAG_FAST_ZERO, CMD_WRITE, 6, 0, 512, new byte[512]));
            assertEquals(EINVAL, c.command(1 << 9, CMD_WRITE_ZEROES, 7, 0, 512, null));
            assertEquals(EINVAL, c.command(0, CMD_FLUSH, 8, 4096, 0, null));
            assertEquals(EINVAL, c.command(0, CMD_FLUSH, 9, 0, 1, null));
            if (!structured) {
                assertEquals(EINVAL, c.command(CMD_FLAG_DF, CMD_READ, 10, 0, 512, null), "DF needs structured replies");
            }
            // FUA is accepted on every command.
            assertEquals(0, c.command(CMD_FLAG_FUA, CMD_FLUSH, 11, 0, 0, null));
            assertEquals(0, c.command(CMD_FLAG_FUA, CMD_CACHE, 12, 0, 4096, null));
            server.assertServes(c);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void blockStatusWithoutMetaContextIsEinval(boolean structured) throws IOException {
        try (RawNbdClient c = RawNbdClient.open(server.port(), "disk", structured, false)) {
            assertEquals(EINVAL, c.command(0, CMD_BLOCK_STATUS, 1, 0, 4096, null));
            server.assertServes(c);
        }
    }

    @Test
    void blockStatusOfZeroLengthIsEinval() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            assertEquals(EINVAL, c.command(0, CMD_BLOCK_STATUS, 1, 0, 0, null));
            server.assertServes(c);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {4096, 1 << 20, 16 << 20})
    void clientHangingUpInTheMiddleOfAWritePayloadChangesNothing(int length) throws IOException {
        long offset = 32L << 20;
        try (RawNbdClient c = server.open("disk")) {
            c.send(0, CMD_WRITE, 1, offset, length, null);
            c.sendRaw(pattern(length / 2, 0x5a));
        }
        awaitConnections(1); // only the bystander
        try (RawNbdClient c = server.open("disk")) {
            assertArrayEquals(new byte[length], c.read(offset, length), "half a payload is never written");
        }
    }

    @Test
    void clientHangingUpInTheMiddleOfARequestHeaderOrHandshake() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            c.sendRaw(new byte[] {0x25, 0x60, (byte) 0x95, 0x13, 0, 0, 0});
        }
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE);
            c.sendRaw(new byte[] {'I', 'H', 'A', 'V'});
        }
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.sendRaw(new byte[] {0});
        }
        awaitConnections(1);
    }

    @Test
    void badRequestMagicIsDropped() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            server.assertServes(c);
            byte[] header = new byte[28];
            header[0] = 0x67; // a reply's magic, not a request's
            header[1] = 0x44;
            header[2] = 0x66;
            header[3] = (byte) 0x98;
            c.sendRaw(header);
            assertTrue(c.isDropped());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readOnlyExportRefusesChangesWithEperm(boolean structured) throws IOException {
        try (RawNbdClient c = RawNbdClient.open(server.port(), "ro", structured, structured)) {
            assertTrue((c.transmissionFlags() & FLAG_READ_ONLY) != 0);
            assertEquals(EPERM, c.command(0, CMD_WRITE, 1, 0, 4096, pattern(4096, 1)));
            assertEquals(EPERM, c.command(CMD_FLAG_FUA, CMD_WRITE, 2, 0, 512, pattern(512, 1)));
            assertEquals(EPERM, c.command(0, CMD_TRIM, 3, 0, 4096, null));
            assertEquals(EPERM, c.command(0, CMD_WRITE_ZEROES, 4, 0, 4096, null));
            assertEquals(EPERM, c.command(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 5, 0, 4096, null));
            assertEquals(0, c.command(0, CMD_FLUSH, 6, 0, 0, null));
            assertArrayEquals(new byte[4096], c.read(0, 4096), "nothing was written");
        }
    }

    @Test
    void disconnectAnswersTheRequestsSentBeforeIt() throws IOException {
        try (RawNbdClient c = server.open("disk")) {
            byte[] data = pattern(8192, 0x33);
            c.send(0, CMD_WRITE, 1, 8 << 20, data.length, data);
            c.send(0, CMD_FLUSH, 2, 0, 0, null);
            c.send(0, CMD_READ, 3, 8 << 20, data.length, null);
            c.send(0, CMD_READ, 4, SIZE, 1, null);
            c.disconnect();
            // Replies may come in any order; the READ may see the WRITE or not (both in flight).
            Map<Long, List<RawNbdClient.Reply>> replies = c.readReplies(4);
            assertEquals(0, RawNbdClient.errorOf(replies.get(1L)));
            assertEquals(0, RawNbdClient.errorOf(replies.get(2L)));
            assertEquals(data.length, RawNbdClient.assemble(8 << 20, data.length, replies.get(3L)).length);
            assertEquals(EINVAL, RawNbdClient.errorOf(replies.get(4L)));
            assertTrue(c.isDropped());
        }
        try (RawNbdClient c = server.open("disk")) {
            assertArrayEquals(pattern(8192, 0x33), c.read(8 << 20, 8192));
        }
    }

    private void awaitConnections(int expected) {
        await("open connections")
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertEquals(expected, server.server().connectionCount(), "open connections"));
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed + i * 7 + (i >>> 9));
        }
        return b;
    }
}
