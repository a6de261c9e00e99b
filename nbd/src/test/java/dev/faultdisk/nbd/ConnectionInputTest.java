package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.net.InputSpin;
import dev.faultdisk.wire.net.ReaderSpin;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.EOFException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A connection's buffered input over a socket that hands out bytes in small, uneven pieces. */
class ConnectionInputTest {
    /** A read-only channel over {@code data}, at most {@code piece} bytes a read, drawn from a seed. */
    private static ByteChannel trickle(byte[] data, int piece, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return new ByteChannel() {
            private int at;

            @Override
            public int read(ByteBuffer dst) {
                if (at == data.length) {
                    return -1;
                }
                int n = Math.min(Math.min(dst.remaining(), data.length - at), 1 + random.nextInt(piece));
                dst.put(data, at, n);
                at += n;
                return n;
            }

            @Override
            public int write(ByteBuffer src) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
    }

    private static byte[] counting(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 7 + i / 251);
        }
        return b;
    }

    @Test
    void requireSkipAndReadIntoHandOutEveryByteOnceInOrder() throws Exception {
        int length = 3 * ConnectionInput.CAPACITY; // crosses the buffer's end many times: compactions
        byte[] data = counting(length);
        ConnectionInput input = new ConnectionInput(trickle(data, 4099, 1));
        SplittableRandom random = new SplittableRandom(2);
        int at = 0;
        while (at < length) {
            int n = Math.min(length - at, 1 + random.nextInt(70_000));
            switch (random.nextInt(3)) {
                case 0 -> { // a header: required, then read from the buffer
                    int k = Math.min(n, 28);
                    input.require(k);
                    byte[] got = new byte[k];
                    input.buffer().get(got);
                    assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + k), got, "at " + at);
                    n = k;
                }
                case 1 -> input.skip(n); // a payload not used
                default -> { // a payload read into a buffer of its own
                    ByteBuffer dst = ByteBuffer.allocate(n);
                    input.readInto(dst);
                    assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + n), dst.array(), "at " + at);
                }
            }
            at += n;
        }
        assertEquals(-1, input.fill(1), "then the end of the stream");
        assertThrows(EOFException.class, () -> input.require(1));
    }

    @Test
    void anIdleWaitSwapsTheBufferAndKeepsWhatArrived() throws Exception {
        byte[] data = counting(64);
        ConnectionInput input = new ConnectionInput(trickle(data, 64, 3));
        input.require(8);
        input.buffer().position(input.buffer().limit()); // all read: the reader would now wait idle
        int[] heldWhileWaiting = new int[1];
        int n = input.awaitIdle(small -> {
            heldWhileWaiting[0] = input.heldBytes();
            small.put(new byte[] {1, 2, 3});
            return 3;
        });
        assertEquals(3, n);
        assertEquals(ConnectionInput.IDLE, heldWhileWaiting[0], "only the small buffer while waiting");
        assertEquals(ConnectionInput.CAPACITY + ConnectionInput.IDLE, input.heldBytes());
        byte[] got = new byte[3];
        input.buffer().get(got);
        assertArrayEquals(new byte[] {1, 2, 3}, got);
        input.release();
    }

    @Test
    void startTlsTakesOutExactlyTheBytesTheClientSentEarly() throws Exception {
        byte[] data = counting(100);
        ConnectionInput input = new ConnectionInput(trickle(data, 100, 4));
        input.require(100);
        input.buffer().position(40);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 40, 100), input.takeBuffered());
        assertEquals(0, input.buffer().remaining());
        input.secure(new StreamChannel(
                Channels.newInputStream(trickle(new byte[] {9}, 1, 5)), OutputStream.nullOutputStream(), () -> {}));
        assertEquals(true, input.secured());
        input.require(1);
        assertEquals(9, input.buffer().get());
    }

    @Test
    void aPayloadWaitingInTheSocketStaysThereUntilItIsReadIntoItsOwnBuffer(@TempDir Path dir) throws Exception {
        try (UnixSocketPair pair = UnixSocketPair.open(dir)) {
            SocketChannel client = pair.client();
            byte[] data = counting(100_000);
            ConnectionInput input = new ConnectionInput(pair.accepted());
            client.write(ByteBuffer.wrap(new byte[28]));
            input.require(28); // a request's header, read
            input.buffer().position(input.buffer().position() + 28);
            client.write(ByteBuffer.wrap(data, 0, 60_000)); // its payload's start, in the socket once this returns

            input.awaitArrived(50_000);
            assertEquals(0, input.buffer().remaining(), "arrived, in the socket: nothing read into the buffer");

            Thread late = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(50);
                    client.write(ByteBuffer.wrap(data, 60_000, 40_000));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            input.awaitArrived(90_000); // more than has arrived: it waits, reading into the buffer
            assertTrue(
                    input.buffer().remaining() >= 90_000,
                    "read into the buffer: " + input.buffer().remaining());
            late.join();

            ByteBuffer payload = ByteBuffer.allocate(data.length);
            input.readInto(payload);
            assertArrayEquals(data, payload.array(), "every byte once, in order, whichever way it came");
            input.release();
        }
    }

    @Test
    void aPayloadReadThatLooksFirstGetsEveryPieceWhetherItCameWithinTheLookOrLater(@TempDir Path dir) throws Exception {
        try (UnixSocketPair pair = UnixSocketPair.open(dir)) {
            SocketChannel client = pair.client();
            byte[] data = counting(300_000);
            ConnectionInput input = new ConnectionInput(pair.accepted());
            // Pieces back to back, one after a pause far past the look's window, then the rest.
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    int at = 0;
                    for (int piece : new int[] {1, 40_000, 9_999, 100_000}) {
                        client.write(ByteBuffer.wrap(data, at, piece));
                        at += piece;
                    }
                    Thread.sleep(50);
                    client.write(ByteBuffer.wrap(data, at, data.length - at));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            ByteBuffer payload = ByteBuffer.allocateDirect(data.length);
            input.readInto(payload, true); // on this platform thread the look runs before each blocking read
            sender.join();
            byte[] got = new byte[data.length];
            payload.flip().get(got);
            assertArrayEquals(data, got, "every byte once, in order");
            input.release();
        }
    }

    @Test
    void aPayloadPieceThatComesLateStopsTheLookAsALateRequestDoes(@TempDir Path dir) throws Exception {
        try (UnixSocketPair pair = UnixSocketPair.open(dir)) {
            SocketChannel client = pair.client();
            // A busy window of 20 ms, not 60 µs: a cold read on a loaded machine stays busy, a piece
            // 50 ms late does not.
            ConnectionInput input = new ConnectionInput(
                    pair.accepted(),
                    waiting -> new ReaderSpin(waiting, InputSpin.shared(), 20_000_000L, System::nanoTime));
            byte[] first = counting(50_000);
            client.write(ByteBuffer.wrap(first)); // all of it waiting in the socket: no wait at all
            ByteBuffer payload = ByteBuffer.allocateDirect(first.length);
            input.readInto(payload, true);
            assertTrue(input.spin().spinning(), "a payload read without waiting keeps the connection busy");

            byte[] second = counting(20_000);
            client.write(ByteBuffer.wrap(second, 0, 1_000));
            Thread late = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(50);
                    client.write(ByteBuffer.wrap(second, 1_000, second.length - 1_000));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            payload = ByteBuffer.allocateDirect(second.length);
            input.readInto(payload, true);
            late.join();
            assertFalse(input.spin().spinning(), "a piece 50 ms late: the next wait blocks without looking");
            byte[] got = new byte[second.length];
            payload.flip().get(got);
            assertArrayEquals(second, got, "every byte once, in order");
            input.release();
        }
    }

    @Test
    void withoutASocketToAskArrivedMeansBuffered() throws Exception {
        byte[] data = counting(10_000);
        ConnectionInput input = new ConnectionInput(trickle(data, 700, 6));
        input.awaitArrived(5_000);
        assertTrue(input.buffer().remaining() >= 5_000);
        byte[] got = new byte[5_000];
        input.buffer().get(got);
        assertArrayEquals(Arrays.copyOf(data, 5_000), got);
    }
}
