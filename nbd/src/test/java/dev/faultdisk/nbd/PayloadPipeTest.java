package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connection's payload pipe on a real loopback socket: the payload is held whole before
 * anything is written, a file the pipe cannot splice into still gets every byte (the buffered
 * copy), a sender that goes away mid-payload is an end of stream with nothing written, and the
 * socket's receive low-water mark, raised for a payload, is 1 again once the write is done.
 */
class PayloadPipeTest {
    private static final int HEAD = 100 << 10;
    private static final int LENGTH = 700 << 10;

    /** A connected pair: the client's end, and the server's end in non-blocking mode (as a busy reader has it). */
    private record Pair(SocketChannel client, SocketChannel server) implements AutoCloseable {
        static Pair open() throws IOException {
            try (ServerSocketChannel listener = ServerSocketChannel.open()) {
                listener.bind(new InetSocketAddress("127.0.0.1", 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel server = listener.accept();
                server.configureBlocking(false);
                return new Pair(client, server);
            }
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
        }
    }

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** The payload's first {@code HEAD} bytes as the connection's input buffer would hold them. */
    private static ByteBuffer head(byte[] payload) {
        ByteBuffer in = ByteBuffer.allocateDirect(HEAD);
        in.put(payload, 0, HEAD).flip();
        return in;
    }

    private static void send(SocketChannel channel, byte[] bytes, int from, int end) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes, from, end - from);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    @Test
    void aFileThePipeCannotSpliceIntoStillGetsEveryByte(@TempDir Path dir) throws IOException {
        assumeTrue(LinuxPipes.available(), "needs Linux and native access");
        byte[] payload = random(7, LENGTH);
        Path image = dir.resolve("img");
        Files.write(image, new byte[2 << 20]);
        try (Pair pair = Pair.open();
                FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            PayloadPipe pipe = PayloadPipe.open(pair.server(), () -> true);
            assertNotNull(pipe, "a pipe for a non-blocking TCP socket");
            try {
                send(pair.client(), payload, HEAD, LENGTH);
                assertTrue(pipe.receive(head(payload), LENGTH), "the whole payload is held");
                pipe.writeTo(file, -1, 4096); // no descriptor to splice into: the buffered copy
            } finally {
                pipe.close();
            }
        }
        byte[] expected = new byte[2 << 20];
        System.arraycopy(payload, 0, expected, 4096, LENGTH);
        assertArrayEquals(expected, Files.readAllBytes(image));
    }

    @Test
    void aSenderThatGoesAwayMidPayloadIsAnEndOfStream() throws IOException {
        assumeTrue(LinuxPipes.available(), "needs Linux and native access");
        byte[] payload = random(8, LENGTH);
        try (Pair pair = Pair.open()) {
            PayloadPipe pipe = PayloadPipe.open(pair.server(), () -> true);
            assertNotNull(pipe);
            try {
                send(pair.client(), payload, HEAD, LENGTH / 2);
                pair.client().close();
                assertThrows(EOFException.class, () -> pipe.receive(head(payload), LENGTH));
            } finally {
                pipe.close();
            }
        }
    }

    /** A sender that stalls mid-payload holds the reader only until the connection is closed. */
    @Test
    void aWaitForAStalledSenderEndsOnceTheConnectionIsClosed() throws IOException {
        assumeTrue(LinuxPipes.available(), "needs Linux and native access");
        byte[] payload = random(9, LENGTH);
        AtomicBoolean open = new AtomicBoolean(true);
        try (Pair pair = Pair.open()) {
            PayloadPipe pipe = PayloadPipe.open(pair.server(), open::get);
            assertNotNull(pipe);
            try {
                send(pair.client(), payload, HEAD, LENGTH / 2);
                CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> open.set(false));
                assertTimeoutPreemptively(
                        Duration.ofSeconds(30),
                        () -> assertThrows(ClosedChannelException.class, () -> pipe.receive(head(payload), LENGTH)),
                        "the wait ends once the connection is closed");
            } finally {
                pipe.close();
            }
        }
    }

    /**
     * A payload sent in two parts is received whole, with a mark of the payload's size and with
     * BBR's default, well past it; while it is written the socket's low-water mark stays raised (a
     * poll for one byte does not wake), and once the write is done it is 1 again, so the reader's
     * wait for its next request wakes for a request's few bytes.
     */
    @ParameterizedTest(name = "a mark of {0} bytes")
    @ValueSource(ints = {PayloadPipe.CAPACITY, PayloadPipe.BBR_LOW_WATER})
    void theLowWaterMarkRaisedForAPayloadIsOneAgainOnceTheWriteIsDone(int mark) throws Exception {
        assumeTrue(LinuxPipes.available(), "needs Linux and native access");
        byte[] payload = random(10, LENGTH);
        try (Pair pair = Pair.open();
                Selector selector = Selector.open()) {
            pair.server().register(selector, SelectionKey.OP_READ);
            PayloadPipe pipe = PayloadPipe.open(pair.server(), () -> true, mark);
            assertNotNull(pipe);
            try {
                send(pair.client(), payload, HEAD, LENGTH / 2);
                CompletableFuture<Void> rest = CompletableFuture.runAsync(
                        () -> {
                            try {
                                send(pair.client(), payload, LENGTH / 2, LENGTH);
                            } catch (IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        },
                        CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
                assertTimeoutPreemptively(
                        Duration.ofSeconds(30),
                        () -> assertTrue(pipe.receive(head(payload), LENGTH), "the whole payload is held"));
                rest.get(30, TimeUnit.SECONDS);
                ByteBuffer got = ByteBuffer.allocateDirect(LENGTH);
                pipe.drainInto(got);
                byte[] bytes = new byte[LENGTH];
                got.flip().get(bytes);
                assertArrayEquals(payload, bytes);

                send(pair.client(), new byte[] {42}, 0, 1); // the next request's first byte
                assertEquals(0, selector.select(300), "a poll for one byte waits while the mark is raised");
                pipe.discard(); // what ends every write through the pipe
                assertEquals(1, selector.select(10_000), "a poll for one byte wakes once the write is done");
            } finally {
                pipe.close();
            }
        }
    }
}
