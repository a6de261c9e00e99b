package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/**
 * A connection's payload pipe on a real loopback socket: the payload is held whole before
 * anything is written, a file the pipe cannot splice into still gets every byte (the buffered
 * copy), and a sender that goes away mid-payload is an end of stream with nothing written.
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
}
