package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader's timed wait for input on a real TCP connection: it ends when the time passes
 * (no sooner), when input comes, and at once when the connection is shut down from another thread.
 */
class ReaderPollTest {

    @Test
    void waitsUntilTheTimePassesOrInputComes() throws Exception {
        onConnection((client, served, poll) -> {
            long start = System.nanoTime();
            assertFalse(poll.await(TimeUnit.MILLISECONDS.toNanos(30)), "nothing to read");
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(30), "not before its time");
            client.write(ByteBuffer.wrap(new byte[] {1}));
            assertTrue(poll.await(TimeUnit.SECONDS.toNanos(20)), "input came");
        });
    }

    @Test
    void aShutdownFromAnotherThreadEndsALongWait() throws Exception {
        onConnection((client, served, poll) -> {
            CompletableFuture<Boolean> waited =
                    CompletableFuture.supplyAsync(() -> poll.await(TimeUnit.MINUTES.toNanos(10)));
            Thread.sleep(50);
            assertFalse(waited.isDone(), "waiting");
            // Closing the channel alone would leave the socket open through the duplicate.
            served.close();
            poll.shutdown();
            assertTrue(waited.get(20, TimeUnit.SECONDS), "the wait ended on the shutdown");
            assertTrue(client.read(ByteBuffer.allocate(1)) < 0, "and the client sees the end");
        });
    }

    @Test
    void afterItClosesAWaitWatchesNothing() throws Exception {
        onConnection((client, served, poll) -> {
            poll.close();
            client.write(ByteBuffer.wrap(new byte[] {1})); // input on the socket it no longer holds
            assertFalse(
                    poll.await(TimeUnit.MILLISECONDS.toNanos(20)), "nothing watched, whatever the number holds now");
        });
    }

    @Test
    void noneForAUnixSocket(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("s");
        try (ServerSocketChannel listener =
                        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path));
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                SocketChannel served = listener.accept()) {
            assertNotNull(client);
            assertTrue(Files.exists(path));
            assertNull(ReaderPoll.of(served), "the JDK keeps a Unix socket's descriptor: the thread serves");
        }
    }

    @FunctionalInterface
    private interface OnConnection {
        void run(SocketChannel client, SocketChannel served, ReaderPoll poll) throws Exception;
    }

    /** Runs {@code test} on a loopback TCP connection with a poll on its served end. */
    private static void onConnection(OnConnection test) throws Exception {
        try (ServerSocketChannel listener =
                        ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel served = listener.accept()) {
            ReaderPoll poll = ReaderPoll.of(served);
            assumeTrue(poll != null, "no ppoll or socket descriptor on this system");
            try (poll) {
                test.run(client, served, poll);
            }
        }
    }
}
