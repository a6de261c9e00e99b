package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The handshake over a real socket: old-style EXPORT_NAME, pipelining, option size limits. */
class HandshakeWireTest {
    private LocalServer server;

    @BeforeEach
    void setUp() throws IOException {
        server = new LocalServer("disk=memory:16M", "other=memory:1M");
    }

    @AfterEach
    void tearDown() throws IOException {
        server.close();
    }

    @Test
    void greetingAdvertisesFixedNewstyleAndNoZeroes() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, c.handshakeFlags());
        }
    }

    @Test
    void exportNameWithAndWithoutZeroPadding() throws IOException {
        for (int clientFlags : new int[] {FLAG_C_FIXED_NEWSTYLE, FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES, 0}) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.setSoTimeout(10_000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                in.readFully(new byte[18]);
                out.writeInt(clientFlags);
                byte[] name = "other".getBytes(StandardCharsets.UTF_8);
                out.writeLong(IHAVEOPT);
                out.writeInt(OPT_EXPORT_NAME);
                out.writeInt(name.length);
                out.write(name);
                // A READ right behind the option, before the export reply arrives.
                out.writeInt(REQUEST_MAGIC);
                out.writeShort(0);
                out.writeShort(CMD_READ);
                out.writeLong(0x1122334455667788L);
                out.writeLong(1000);
                out.writeInt(24);
                out.flush();
                assertEquals(1 << 20, in.readLong());
                int flags = in.readUnsignedShort();
                assertEquals(0, flags & FLAG_SEND_DF, "no structured replies on this path");
                if ((clientFlags & FLAG_C_NO_ZEROES) == 0) {
                    byte[] zeroes = new byte[124];
                    in.readFully(zeroes);
                    assertArrayEquals(new byte[124], zeroes);
                }
                assertEquals(SIMPLE_REPLY_MAGIC, in.readInt());
                assertEquals(0, in.readInt());
                assertEquals(0x1122334455667788L, in.readLong());
                byte[] data = new byte[24];
                in.readFully(data);
                assertArrayEquals(new byte[24], data);
            }
        }
    }

    @Test
    void wholeHandshakeAndFirstRequestsInOneWrite() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(bytes);
            d.writeInt(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            option(d, OPT_STRUCTURED_REPLY, new byte[0]);
            option(d, OPT_SET_META_CONTEXT, RawNbdClient.metaContextData("disk", BASE_ALLOCATION));
            option(d, OPT_GO, RawNbdClient.goData("disk", new int[0]));
            byte[] data = HostileClientTest.pattern(5000, 3);
            request(d, CMD_WRITE, 1, 0, data.length);
            d.write(data);
            request(d, CMD_READ, 2, 0, data.length);
            request(d, CMD_BLOCK_STATUS, 3, 0, 1 << 20);
            c.sendRaw(bytes.toByteArray());

            c.expectAck(c.readUntilFinal());
            List<RawNbdClient.OptionReply> meta = c.readUntilFinal();
            assertEquals(REP_META_CONTEXT, meta.getFirst().type());
            c.expectAck(meta);
            List<RawNbdClient.OptionReply> go = c.readUntilFinal();
            c.expectAck(go);
            c.structured(true);
            assertEquals(0, RawNbdClient.errorOf(c.readAll(1)));
            assertArrayEquals(data, RawNbdClient.assemble(0, data.length, c.readAll(2)));
            List<RawNbdClient.Reply> status = c.readAll(3);
            assertEquals(REPLY_TYPE_BLOCK_STATUS, status.getFirst().type());
            assertEquals(0, status.getFirst().payload().getInt(8), "the written block is data");
        }
    }

    @Test
    void optionDataUpTo64KiBIsReadAndBeyondIsTooBig() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            assertEquals(
                    REP_ERR_INVALID,
                    c.option(OPT_LIST, new byte[Connection.MAX_OPTION_DATA])
                            .getLast()
                            .type());
            assertEquals(
                    REP_ERR_TOO_BIG,
                    c.option(OPT_LIST, new byte[Connection.MAX_OPTION_DATA + 1])
                            .getLast()
                            .type());
            assertEquals(
                    REP_ERR_TOO_BIG,
                    c.option(OPT_INFO, new byte[Connection.MAX_OPTION_DATA + 1])
                            .getLast()
                            .type());
            List<RawNbdClient.OptionReply> list = c.option(OPT_LIST, new byte[0]);
            assertEquals(
                    List.of(REP_SERVER, REP_SERVER, REP_ACK),
                    list.stream().map(RawNbdClient.OptionReply::type).toList());
            c.expectAck(c.go("other"));
            assertEquals(1 << 20, c.exportSize());
        }
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE);
            List<RawNbdClient.OptionReply> r = c.option(OPT_ABORT, new byte[0]);
            assertEquals(REP_ACK, r.getFirst().type());
            assertTrue(c.isDropped());
        }
    }

    @Test
    void failedGoLeavesNegotiationOpen() throws IOException {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            assertEquals(REP_ERR_UNKNOWN, c.go("missing").getLast().type());
            assertEquals(REP_ERR_UNSUP, c.option(42, new byte[] {1}).getLast().type());
            assertEquals(
                    REP_ERR_INVALID,
                    c.option(OPT_SET_META_CONTEXT, RawNbdClient.metaContextData("disk", BASE_ALLOCATION))
                            .getLast()
                            .type());
            c.expectAck(c.option(OPT_INFO, RawNbdClient.goData("disk", new int[] {INFO_NAME})));
            c.expectAck(c.go(""));
            assertEquals(16 << 20, c.exportSize());
            server.assertServes(c);
        }
    }

    private static void option(DataOutputStream d, int option, byte[] data) throws IOException {
        d.writeLong(IHAVEOPT);
        d.writeInt(option);
        d.writeInt(data.length);
        d.write(data);
    }

    private static void request(DataOutputStream d, int type, long cookie, long offset, int length) throws IOException {
        d.writeInt(REQUEST_MAGIC);
        d.writeShort(0);
        d.writeShort(type);
        d.writeLong(cookie);
        d.writeLong(offset);
        d.writeInt(length);
    }
}
