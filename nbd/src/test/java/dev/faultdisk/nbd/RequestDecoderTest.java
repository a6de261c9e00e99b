package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RequestDecoder fed a request stream in fragments of every size yields the same headers. */
class RequestDecoderTest {

    /** A request as the test wrote it; WRITEs are followed by {@code length} payload bytes. */
    record Sent(int flags, int type, long cookie, long offset, long length) {
        long payload() {
            return type == NbdProtocol.CMD_WRITE ? length : 0;
        }
    }

    @Test
    void decodesExtremeFieldValuesUnsigned() throws Exception {
        List<Sent> sent = List.of(
                new Sent(0xFFFF, 0xFFFF, -1L, Long.MIN_VALUE, 0xFFFF_FFFFL),
                new Sent(0x8000, NbdProtocol.CMD_READ, Long.MIN_VALUE, -1L, 0x8000_0000L),
                new Sent(0, NbdProtocol.CMD_DISC, 0, 0, 0));
        assertEquals(sent, decodeInFragments(encode(sent), new SplittableRandom(1), 1_000_000));
    }

    @Test
    void oneByteAtATime() throws Exception {
        List<Sent> sent = randomRequests(new SplittableRandom(7), 40);
        assertEquals(sent, decodeInFragments(encode(sent), new SplittableRandom(7), 1));
    }

    @Test
    void splitAtEveryPosition() throws Exception {
        List<Sent> sent = randomRequests(new SplittableRandom(11), 12);
        byte[] stream = encode(sent);
        for (int cut = 0; cut <= stream.length; cut++) {
            List<Sent> got = decodeParts(List.of(slice(stream, 0, cut), slice(stream, cut, stream.length)));
            assertEquals(sent, got, "split at " + cut);
        }
    }

    @Test
    void randomSplitsWithSeveralSeeds() throws Exception {
        for (long seed = 100; seed < 140; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            List<Sent> sent = randomRequests(random, 1 + random.nextInt(60));
            byte[] stream = encode(sent);
            int maxFragment = 1 + random.nextInt(200);
            assertEquals(sent, decodeInFragments(stream, random, maxFragment), "seed " + seed);
        }
    }

    @Test
    void badMagicIsAProtocolError() {
        ByteBuffer b = ByteBuffer.allocate(28);
        b.putInt(0x25609514)
                .putShort((short) 0)
                .putShort((short) 0)
                .putLong(1)
                .putLong(0)
                .putInt(512)
                .flip();
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> RequestDecoder.decode(b, new RequestHeader()));
        assertTrue(e.getMessage().contains("0x25609514"), e.getMessage());
    }

    @Test
    void badMagicAfterGoodRequestsIsFoundAtItsRequest() throws Exception {
        List<Sent> sent = randomRequests(new SplittableRandom(3), 3);
        byte[] good = encode(sent);
        byte[] stream = java.util.Arrays.copyOf(good, good.length + 28);
        stream[good.length] = 'G'; // garbage where the fourth header starts
        ByteBuffer in = ByteBuffer.wrap(stream);
        RequestHeader h = new RequestHeader();
        for (Sent s : sent) {
            assertTrue(RequestDecoder.decode(in, h));
            in.position(in.position() + (int) s.payload());
        }
        int before = in.position();
        assertThrows(ProtocolException.class, () -> RequestDecoder.decode(in, h));
        assertEquals(before, in.position(), "nothing consumed");
    }

    @Test
    void shortInputConsumesNothing() throws Exception {
        byte[] stream = encode(List.of(new Sent(1, 1, 2, 3, 0)));
        for (int n = 0; n < 28; n++) {
            ByteBuffer in = ByteBuffer.wrap(stream, 0, n);
            assertFalse(RequestDecoder.decode(in, new RequestHeader()));
            assertEquals(0, in.position());
        }
    }

    @Test
    void encodeMatchesIndependentEncoding() throws Exception {
        Sent s = new Sent(0x1234, 7, 0x0102030405060708L, 0x1112131415161718L, 0xF1F2F3F4L);
        ByteBuffer b = ByteBuffer.allocate(28);
        RequestDecoder.encode(b, s.flags(), s.type(), s.cookie(), s.offset(), s.length());
        assertEquals(ByteBuffer.wrap(encode(List.of(s))), b.flip());
    }

    @Test
    void extendedHeadersSplitAtEveryPositionAndRandomly() throws Exception {
        List<Sent> sent = new ArrayList<>(randomRequests(new SplittableRandom(13), 12));
        sent.add(new Sent(0xFFFF, NbdProtocol.CMD_TRIM, -1L, Long.MIN_VALUE, -1L)); // 64-bit unsigned length
        sent.add(new Sent(0, NbdProtocol.CMD_BLOCK_STATUS, 5, 0, 1L << 44));
        byte[] stream = encode(sent, true);
        for (int cut = 0; cut <= stream.length; cut++) {
            List<Sent> got = decodeParts(List.of(slice(stream, 0, cut), slice(stream, cut, stream.length)), true);
            assertEquals(sent, got, "split at " + cut);
        }
        for (long seed = 200; seed < 220; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            List<Sent> more = randomRequests(random, 1 + random.nextInt(60));
            assertEquals(more, decodeInFragments(encode(more, true), random, 1 + random.nextInt(200), true));
        }
    }

    @Test
    void aCompactHeaderWhereAnExtendedOneIsDueIsAProtocolErrorAndShortInputWaits() throws Exception {
        byte[] compact = encode(List.of(new Sent(0, NbdProtocol.CMD_FLUSH, 1, 0, 0)), false);
        ByteBuffer in = ByteBuffer.wrap(java.util.Arrays.copyOf(compact, 32));
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> RequestDecoder.decodeExtended(in, new RequestHeader()));
        assertTrue(e.getMessage().contains("0x25609513"), e.getMessage());
        assertEquals(0, in.position());
        byte[] extended = encode(List.of(new Sent(1, 1, 2, 3, 0)), true);
        for (int n = 0; n < 32; n++) {
            ByteBuffer part = ByteBuffer.wrap(extended, 0, n);
            assertFalse(RequestDecoder.decodeExtended(part, new RequestHeader()));
            assertEquals(0, part.position());
        }
        ByteBuffer b = ByteBuffer.allocate(32);
        RequestDecoder.encode(b, 1, 1, 2, 3, 0, true);
        assertEquals(ByteBuffer.wrap(extended), b.flip());
    }

    // ---- helpers ----

    private static List<Sent> randomRequests(SplittableRandom random, int count) {
        List<Sent> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int type = random.nextInt(9);
            long length = type == NbdProtocol.CMD_WRITE
                    ? random.nextInt(300)
                    : random.nextBoolean() ? random.nextLong() & 0xFFFF_FFFFL : random.nextInt(1 << 20);
            out.add(new Sent(random.nextInt(1 << 16), type, random.nextLong(), random.nextLong(), length));
        }
        return out;
    }

    private static byte[] encode(List<Sent> requests) throws IOException {
        return encode(requests, false);
    }

    /** Encodes independently of RequestDecoder.encode, with payload bytes after each WRITE. */
    private static byte[] encode(List<Sent> requests, boolean extended) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(bytes);
        for (Sent s : requests) {
            d.writeInt(extended ? 0x21e41c71 : 0x25609513);
            d.writeShort(s.flags());
            d.writeShort(s.type());
            d.writeLong(s.cookie());
            d.writeLong(s.offset());
            if (extended) {
                d.writeLong(s.length());
            } else {
                d.writeInt((int) s.length());
            }
            for (long i = 0; i < s.payload(); i++) {
                d.write((int) (i * 31 + 7)); // payload bytes that could pass for anything
            }
        }
        return bytes.toByteArray();
    }

    private static List<Sent> decodeInFragments(byte[] stream, SplittableRandom random, int maxFragment)
            throws ProtocolException {
        return decodeInFragments(stream, random, maxFragment, false);
    }

    private static List<Sent> decodeInFragments(
            byte[] stream, SplittableRandom random, int maxFragment, boolean extended) throws ProtocolException {
        List<byte[]> parts = new ArrayList<>();
        for (int pos = 0; pos < stream.length; ) {
            int n = Math.min(stream.length - pos, 1 + random.nextInt(maxFragment));
            parts.add(slice(stream, pos, pos + n));
            pos += n;
        }
        return decodeParts(parts, extended);
    }

    private static List<Sent> decodeParts(List<byte[]> parts) throws ProtocolException {
        return decodeParts(parts, false);
    }

    /**
     * Feeds fragments into a small buffer the way the connection does (append, decode what is
     * complete, skip payloads, compact) and collects the headers.
     */
    private static List<Sent> decodeParts(List<byte[]> parts, boolean extended) throws ProtocolException {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024).limit(0);
        RequestHeader h = new RequestHeader();
        List<Sent> got = new ArrayList<>();
        long payloadLeft = 0;
        for (byte[] part : parts) {
            buffer.compact().put(part).flip();
            while (true) {
                if (payloadLeft > 0) {
                    int n = (int) Math.min(payloadLeft, buffer.remaining());
                    buffer.position(buffer.position() + n);
                    payloadLeft -= n;
                    if (payloadLeft > 0) {
                        break;
                    }
                }
                if (!RequestDecoder.decode(buffer, h, extended)) {
                    break;
                }
                Sent s = new Sent(h.flags, h.type, h.cookie, h.offset, h.length);
                got.add(s);
                payloadLeft = s.payload();
            }
        }
        assertEquals(0, buffer.remaining(), "bytes left over");
        return got;
    }

    private static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }
}
