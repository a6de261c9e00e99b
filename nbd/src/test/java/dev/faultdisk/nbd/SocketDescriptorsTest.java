package dev.faultdisk.nbd;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A channel's descriptor, duplicated: by the number the JDK tells (the tests run with the export
 * the launcher gives) and by the search of the process's descriptors (where it is not given),
 * over TCP and Unix sockets. Each duplicate is the channel's own socket among several: shutting
 * it down ends that client's stream and no other's.
 */
class SocketDescriptorsTest {
    private static final int SHUT_WR = 1;
    private static final MethodHandle SHUTDOWN =
            Libc.function("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    enum Lookup {
        JDK_NUMBER(SocketDescriptors::duplicate),
        SEARCH_TCP(SocketDescriptors::searchTcp),
        SEARCH_UNIX(SocketDescriptors::searchUnix);

        final ToIntFunction<SocketChannel> duplicate;

        Lookup(ToIntFunction<SocketChannel> duplicate) {
            this.duplicate = duplicate;
        }
    }

    @TempDir
    Path dir;

    @Test
    void theJdkTellsTheNumberWithTheLaunchersExport() {
        assertTrue(
                SocketDescriptors.numberFromJdk(),
                "the tests' JVM exports sun.nio.ch as scripts/jvm.options does, so no search is needed");
    }

    @ParameterizedTest
    @EnumSource(Lookup.class)
    void theDuplicateIsTheChannelsOwnSocket(Lookup lookup) throws Throwable {
        boolean unix = lookup != Lookup.SEARCH_TCP;
        List<SocketChannel> clients = new ArrayList<>();
        List<SocketChannel> served = new ArrayList<>();
        try (ServerSocketChannel listener = listen(unix)) {
            for (int i = 0; i < 4; i++) {
                clients.add(SocketChannel.open(listener.getLocalAddress()));
                served.add(listener.accept());
            }
            // Opened last, so searched first, and showing the search's next first mark.
            SocketChannel decoy = served.get(3);
            int mark = SocketDescriptors.nextFirstMark();
            if (unix) {
                decoy.setOption(StandardSocketOptions.SO_RCVBUF, mark);
            }
            SocketChannel chosen = served.get(1);
            int bufferBefore = chosen.getOption(StandardSocketOptions.SO_RCVBUF);
            int dup = lookup.duplicate.applyAsInt(chosen);
            assertTrue(dup >= 0, "found");
            try {
                assertEquals(0, (int) SHUTDOWN.invokeExact(dup, SHUT_WR));
                for (int i = 0; i < clients.size(); i++) {
                    assertEquals(i == 1, endOfStream(clients.get(i)), "client " + i + " sees the end");
                }
            } finally {
                Libc.close(dup);
            }
            assertEquals(bufferBefore, chosen.getOption(StandardSocketOptions.SO_RCVBUF), "the mark taken off");
            if (unix) {
                assertEquals(mark, decoy.getOption(StandardSocketOptions.SO_RCVBUF), "the other socket as it was");
            }
        } finally {
            closeAll(clients, served);
        }
    }

    /** Many connections' readers search for their descriptors at the same moment: each finds its own. */
    @Test
    void searchesOnManyUnixConnectionsAtOnceEachFindTheirOwn() throws Exception {
        int n = 8;
        List<SocketChannel> clients = new ArrayList<>();
        List<SocketChannel> served = new ArrayList<>();
        try (ServerSocketChannel listener = listen(true);
                ExecutorService threads = Executors.newFixedThreadPool(n)) {
            for (int i = 0; i < n; i++) {
                clients.add(SocketChannel.open(listener.getLocalAddress()));
                served.add(listener.accept());
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> found = new ArrayList<>();
            for (SocketChannel s : served) {
                found.add(threads.submit(() -> {
                    go.await();
                    return SocketDescriptors.searchUnix(s);
                }));
            }
            go.countDown();
            for (int i = 0; i < n; i++) {
                int searched = found.get(i).get(60, TimeUnit.SECONDS);
                int told = SocketDescriptors.duplicate(served.get(i));
                try {
                    assertTrue(searched >= 0 && told >= 0, "found");
                    assertEquals(socketOf(told), socketOf(searched), "connection " + i + ": the same socket");
                } finally {
                    Libc.close(searched);
                    Libc.close(told);
                }
            }
        } finally {
            closeAll(clients, served);
        }
    }

    private ServerSocketChannel listen(boolean unix) throws IOException {
        return unix
                ? ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                        .bind(UnixDomainSocketAddress.of(
                                Files.createTempDirectory(dir, "s").resolve("s")))
                : ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** Whether the client's stream has ended (waiting a little for it), rather than being open and empty. */
    private static boolean endOfStream(SocketChannel client) throws Exception {
        client.configureBlocking(false);
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        do {
            if (client.read(ByteBuffer.allocate(1)) < 0) {
                return true;
            }
            Thread.sleep(5);
        } while (System.nanoTime() < until);
        return false;
    }

    /** What a descriptor number holds ("socket:[inode]"). */
    private static String socketOf(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    private static void closeAll(List<SocketChannel> clients, List<SocketChannel> served) throws IOException {
        for (SocketChannel c : clients) {
            c.close();
        }
        for (SocketChannel c : served) {
            c.close();
        }
    }
}
