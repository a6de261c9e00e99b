package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The reader's timed wait for input on a real TCP or Unix socket connection: it ends when the time
 * passes (no sooner), when input comes, and at once when the connection is shut down from another
 * thread; and it watches its own connection's socket, not another's (how the socket is found:
 * {@link SocketDescriptorsTest}).
 */
class ReaderPollTest {
    enum Transport {
        TCP,
        UNIX
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Transport.class)
    void waitsUntilTheTimePassesOrInputComes(Transport transport) throws Exception {
        onConnection(transport, (client, served, poll) -> {
            long start = System.nanoTime();
            assertFalse(poll.await(TimeUnit.MILLISECONDS.toNanos(30)), "nothing to read");
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(30), "not before its time");
            client.write(ByteBuffer.wrap(new byte[] {1}));
            assertTrue(poll.await(TimeUnit.SECONDS.toNanos(20)), "input came");
        });
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aShutdownFromAnotherThreadEndsALongWait(Transport transport) throws Exception {
        onConnection(transport, (client, served, poll) -> {
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

    @ParameterizedTest
    @EnumSource(Transport.class)
    void afterItClosesAWaitWatchesNothing(Transport transport) throws Exception {
        onConnection(transport, (client, served, poll) -> {
            poll.close();
            client.write(ByteBuffer.wrap(new byte[] {1})); // input on the socket it no longer holds
            assertFalse(
                    poll.await(TimeUnit.MILLISECONDS.toNanos(20)), "nothing watched, whatever the number holds now");
        });
    }

    @Test
    void amongManyUnixConnectionsEachPollWatchesItsOwn() throws Exception {
        assumeTrue(ReaderPoll.available(), "no ppoll on this system");
        Path path = dir.resolve("many");
        int n = 4;
        List<SocketChannel> clients = new ArrayList<>();
        List<SocketChannel> served = new ArrayList<>();
        List<ReaderPoll> polls = new ArrayList<>();
        try (ServerSocketChannel listener =
                ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path))) {
            for (int i = 0; i < n; i++) {
                clients.add(SocketChannel.open(UnixDomainSocketAddress.of(path)));
                served.add(listener.accept());
            }
            for (SocketChannel s : served.subList(0, n)) {
                polls.add(ReaderPoll.of(s));
            }
            for (ReaderPoll p : polls) {
                assertNotNull(p, "each connection's descriptor found");
            }
            assertEachWatchesItsOwn(clients, served, polls);
        } finally {
            closeAll(polls, clients, served);
        }
    }

    private static void closeAll(List<ReaderPoll> polls, List<SocketChannel> clients, List<SocketChannel> served)
            throws IOException {
        for (ReaderPoll p : polls) {
            if (p != null) {
                p.close();
            }
        }
        for (SocketChannel c : clients) {
            c.close();
        }
        for (SocketChannel c : served) {
            c.close();
        }
    }

    /** A byte written by each client in turn wakes its own connection's poll and no other. */
    private static void assertEachWatchesItsOwn(
            List<SocketChannel> clients, List<SocketChannel> served, List<ReaderPoll> polls) throws IOException {
        int n = polls.size();
        for (int writer = 0; writer < n; writer++) {
            clients.get(writer).write(ByteBuffer.wrap(new byte[] {(byte) writer}));
            for (int i = 0; i < n; i++) {
                long wait = TimeUnit.MILLISECONDS.toNanos(i == writer ? 20_000 : 20);
                assertEquals(i == writer, polls.get(i).await(wait), "poll " + i + " after a write on " + writer);
            }
            ByteBuffer one = ByteBuffer.allocate(1);
            served.get(writer).read(one); // and the write arrived on the channel the poll is for
            assertEquals((byte) writer, one.get(0));
        }
    }

    @FunctionalInterface
    private interface OnConnection {
        void run(SocketChannel client, SocketChannel served, ReaderPoll poll) throws Exception;
    }

    /** Runs {@code test} on a loopback TCP connection or a Unix socket with a poll on its served end. */
    private void onConnection(Transport transport, OnConnection test) throws Exception {
        try (ServerSocketChannel listener = transport == Transport.TCP
                        ? ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                        : ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                                .bind(UnixDomainSocketAddress.of(dir.resolve("s")));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel served = listener.accept()) {
            ReaderPoll poll = ReaderPoll.of(served);
            assumeTrue(ReaderPoll.available(), "no ppoll on this system");
            assertNotNull(poll, "the served end's descriptor found");
            try (poll) {
                test.run(client, served, poll);
            }
        }
    }
}
