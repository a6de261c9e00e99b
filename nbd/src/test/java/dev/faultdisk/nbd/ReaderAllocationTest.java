package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server allocates for each request it serves inline on a connection's reader, at queue
 * depth 1, where the reader waits idle between requests (the wait gives its buffers back and
 * takes them again). A steady load should leave the collector little to do: each young
 * collection stops every connection and the control channel for milliseconds. What is left is the
 * request itself (an immutable {@code BlockRequest} passed down the export's stack, 64 bytes) and,
 * in some runs, the idle wait's lambdas, as the JIT happens to inline them: 64 to 112 bytes measured
 * a request, where a view of a buffer, a node of the pool's queue and a socket stream made again
 * for each request took it to 176 to 240.
 */
class ReaderAllocationTest {
    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 20_000;
    private static final int BOUND = 144;

    @Test
    void aSmallReadOverTcpAllocatesLittleBesidesItsRequest() throws Exception {
        try (LocalServer server = new LocalServer("d=memory:1M");
                RawNbdClient client = RawNbdClient.open(server.port(), "d", false, false)) {
            assertBounded(client, false);
        }
    }

    @Test
    void aSmallWriteOverTcpAllocatesLittleBesidesItsRequest() throws Exception {
        try (LocalServer server = new LocalServer("d=memory:1M");
                RawNbdClient client = RawNbdClient.open(server.port(), "d", false, false)) {
            assertBounded(client, true);
        }
    }

    @Test
    void aSmallReadOverAUnixSocketAllocatesLittleBesidesItsRequest(@TempDir Path dir) throws Exception {
        try (LocalServer server = LocalServer.onUnixSocket(dir.resolve("nbd.sock"), "d=memory:1M");
                RawNbdClient client = server.open("d")) {
            assertBounded(client, false);
        }
    }

    /** Runs reads (or writes) of 4 KiB one at a time and bounds the server's allocation for each. */
    private static void assertBounded(RawNbdClient client, boolean writes) throws Exception {
        byte[] pattern = new byte[4096];
        Arrays.fill(pattern, (byte) 0x5a);
        client.write(8192, pattern);
        requests(client, writes, pattern, WARM_UP); // the JIT compiles the path
        Map<Long, Long> before = readers();
        requests(client, writes, pattern, MEASURED);
        Map<Long, Long> after = readers();
        assertFalse(after.isEmpty(), "a platform thread reads the busy connection");
        long server = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            server += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        assertArrayEquals(pattern, client.read(8192, pattern.length), "the data read back");
        long each = server / MEASURED;
        assertTrue(each <= BOUND, each + " bytes allocated by the server for each " + (writes ? "write" : "read"));
    }

    /**
     * What each connection's platform reader (the thread that serves inline requests) allocated so
     * far, by thread id: the server's threads alone, not other tests' leftovers in this JVM.
     */
    private static Map<Long, Long> readers() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Map<Long, Long> out = new HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(ReaderThreads.NAME)) {
                out.put(t.threadId(), threads.getThreadAllocatedBytes(t.threadId()));
            }
        }
        return out;
    }

    private static void requests(RawNbdClient client, boolean writes, byte[] pattern, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            if (writes) {
                client.write(8192, pattern);
            } else {
                client.read(8192, pattern.length);
            }
        }
    }
}
