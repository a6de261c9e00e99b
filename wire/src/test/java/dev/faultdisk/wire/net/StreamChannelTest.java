package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What a TLS layer is given to write, and what reads take from beneath it: a reply's header and
 * payload in one write, large payloads in whole records, and a burst of records already buffered
 * read at once without ever waiting for one that has not come.
 */
class StreamChannelTest {
    /** Records each write call's length, as a TLS layer makes records of each. */
    private static final class Writes extends OutputStream {
        final List<Integer> lengths = new ArrayList<>();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            lengths.add(len);
            bytes.write(b, off, len);
        }
    }

    @Test
    void aHeaderAndASmallPayloadGoOutInOneWrite() throws IOException {
        Writes out = new Writes();
        StreamChannel channel = new StreamChannel(InputStream.nullInputStream(), out, () -> {});
        ByteBuffer header = ByteBuffer.allocateDirect(16).put(new byte[16]).flip();
        ByteBuffer payload = ByteBuffer.allocateDirect(4096);
        assertEquals(16 + 4096, channel.write(new ByteBuffer[] {header, payload}));
        assertEquals(List.of(16 + 4096), out.lengths);
        assertTrue(!header.hasRemaining() && !payload.hasRemaining());
    }

    @Test
    void aLargePayloadGoesOutInWholeRecordsInOrder() throws IOException {
        Writes out = new Writes();
        StreamChannel channel = new StreamChannel(InputStream.nullInputStream(), out, () -> {});
        byte[] data = new byte[1 << 20];
        new Random(7).nextBytes(data);
        ByteBuffer header = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        ByteBuffer payload = ByteBuffer.allocateDirect(data.length).put(data).flip();
        channel.write(new ByteBuffer[] {header, payload});
        for (int i = 0; i < out.lengths.size() - 1; i++) {
            assertEquals(
                    0, out.lengths.get(i) % StreamChannel.TLS13_JDK_FRAGMENT, "write " + i + " fills whole records");
        }
        byte[] sent = out.bytes.toByteArray();
        assertEquals(8 + data.length, sent.length);
        assertArrayEquals(data, java.util.Arrays.copyOfRange(sent, 8, sent.length));
    }

    /**
     * A stand-in for a TLS layer over a {@link BurstInput}: records are a 5-byte header (type 23
     * for data, anything else a record the layer keeps for itself) and a body in the clear; after
     * a kept record it reads on, as a TLS socket does after a key update.
     */
    private static final class ToyRecords extends InputStream {
        private final InputStream raw;

        ToyRecords(InputStream raw) {
            this.raw = raw;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (true) {
                byte[] header;
                try {
                    header = raw.readNBytes(5);
                } catch (EOFException e) {
                    return -1; // the end at a record's start, as the JDK's TLS socket takes it
                }
                if (header.length < 5) {
                    return -1;
                }
                int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
                byte[] body = raw.readNBytes(length);
                if (body.length < length) {
                    throw new EOFException();
                }
                if (header[0] == 23) {
                    System.arraycopy(body, 0, b, off, length); // the tests' reads have room
                    return length;
                }
            }
        }
    }

    private static byte[] record(int type, byte[] body) {
        byte[] r = new byte[5 + body.length];
        r[0] = (byte) type;
        r[3] = (byte) (body.length >> 8);
        r[4] = (byte) body.length;
        System.arraycopy(body, 0, r, 5, body.length);
        return r;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }

    @Test
    void recordsAlreadyBufferedAreReadTogether() throws IOException {
        byte[] wire = concat(
                record(23, "ab".getBytes(StandardCharsets.US_ASCII)),
                record(23, "cde".getBytes(StandardCharsets.US_ASCII)),
                record(23, "f".getBytes(StandardCharsets.US_ASCII)));
        BurstInput raw = new BurstInput(new byte[0], new ByteArrayInputStream(wire));
        StreamChannel channel =
                new StreamChannel(new ToyRecords(raw), OutputStream.nullOutputStream(), () -> {}, raw, null);
        ByteBuffer dst = ByteBuffer.allocate(64);
        assertEquals(6, channel.read(dst));
        assertEquals("abcdef", new String(dst.array(), 0, 6, StandardCharsets.US_ASCII));
        assertEquals(-1, channel.read(dst.clear()));
    }

    @Test
    void aReadStopsBeforeARecordThatHasNotWhollyArrived() throws IOException {
        byte[] whole = record(23, "ab".getBytes(StandardCharsets.US_ASCII));
        byte[] next = record(23, "cdef".getBytes(StandardCharsets.US_ASCII));
        // The socket gives the first record and the start of the next in one call, the rest later.
        InputStream socket = new InputStream() {
            private final byte[][] calls = {
                concat(whole, java.util.Arrays.copyOf(next, 4)), java.util.Arrays.copyOfRange(next, 4, next.length)
            };
            private int call;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (call == calls.length) {
                    return -1;
                }
                byte[] c = calls[call++];
                System.arraycopy(c, 0, b, off, c.length);
                return c.length;
            }
        };
        BurstInput raw = new BurstInput(new byte[0], socket);
        StreamChannel channel =
                new StreamChannel(new ToyRecords(raw), OutputStream.nullOutputStream(), () -> {}, raw, null);
        ByteBuffer dst = ByteBuffer.allocate(64);
        assertEquals(2, channel.read(dst), "the whole record only");
        assertEquals(4, channel.read(dst), "the next once it is here");
        assertEquals("abcdef", new String(dst.array(), 0, 6, StandardCharsets.US_ASCII));
    }

    @Test
    void aRecordTheLayerKeepsDoesNotMakeTheReadWaitForMore() throws IOException {
        // Data, then a record the layer keeps (a key update), then nothing yet: the socket would
        // block. The read must return the data it has instead of waiting behind the kept record.
        byte[] wire = concat(record(23, "ab".getBytes(StandardCharsets.US_ASCII)), record(24, new byte[3]));
        InputStream blocking = new InputStream() {
            private final ByteArrayInputStream first = new ByteArrayInputStream(wire);

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (first.available() == 0) {
                    throw new AssertionError("read the socket while data was ready to return");
                }
                return first.read(b, off, len);
            }
        };
        BurstInput raw = new BurstInput(new byte[0], blocking);
        StreamChannel channel =
                new StreamChannel(new ToyRecords(raw), OutputStream.nullOutputStream(), () -> {}, raw, null);
        ByteBuffer dst = ByteBuffer.allocate(64);
        assertEquals(2, channel.read(dst));
    }

    @Test
    void probingWithNothingBufferedRefusesInsteadOfWaiting() throws IOException {
        BurstInput raw = new BurstInput("xy".getBytes(StandardCharsets.US_ASCII), InputStream.nullInputStream());
        raw.probing(true);
        byte[] b = new byte[8];
        assertEquals(2, raw.read(b, 0, 8), "the early bytes come first");
        assertThrows(SocketTimeoutException.class, () -> raw.read(b, 0, 8));
        raw.probing(false);
        // Then the socket's end, as an EOFException (see BurstInput.ended).
        assertThrows(EOFException.class, () -> raw.read(b, 0, 8));
    }
}
