package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Over TCP and a Unix socket, on real time, a connection's reader serves its delayed requests:
 * what follows a request's wait runs on the reader, not on the delay thread, and never before the
 * delay is over.
 */
class DelaysOnReaderTest {
    @TempDir
    Path dir;

    /** Records which threads read: below the fault layer, and unversioned, so read after each wait. */
    private static final class ThreadsReading extends ForwardingBlockDevice {
        final Set<String> readers = ConcurrentHashMap.newKeySet();

        ThreadsReading(MemoryDevice next) {
            super(next);
        }

        @Override
        public void read(BlockRequest r, ByteBuffer dst) throws IOException {
            readers.add(Thread.currentThread().getName().replaceAll("-[0-9]+$", "-N"));
            super.read(r, dst);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(120) // a Unix socket's client reads without a timeout of its own
    void theReaderRunsWhatFollowsEachDelayedRequestsWait(boolean unix) throws Exception {
        assumeTrue(ReaderPoll.available(), "no ppoll on this system: the delay thread serves");
        MemoryDevice memory = new MemoryDevice(1 << 20);
        for (int i = 0; i < 16; i++) {
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) (i + 1));
            memory.write(BlockRequest.of(BlockOp.WRITE, 4096L * i, 4096), ByteBuffer.wrap(block));
        }
        ThreadsReading device = new ThreadsReading(memory);
        ExportRegistry registry = new ExportRegistry();
        Export export =
                new Export("d", device, false, new BlkdebugEngine(), CacheMode.WRITETHROUGH, FaultTime.system(), 1);
        registry.add(export);
        export.faults().add(List.of(Map.of("type", "delay", "ops", List.of("read"), "ms", 20)), "rules");
        Path socket = dir.resolve("nbd.sock");
        try (NbdServer server = new NbdServer(registry, NbdServer.Options.defaults())
                        .start(unix ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress("127.0.0.1", 0));
                RawNbdClient client = unix
                        ? RawNbdClient.open(socket, "d", true, false)
                        : RawNbdClient.open(server.port(), "d", true, false)) {
            for (int round = 0; round < 5; round++) {
                long sent = System.nanoTime();
                for (int i = 0; i < 16; i++) {
                    client.send(0, NbdProtocol.CMD_READ, i + 1, 4096L * i, 4096, null);
                }
                client.flush();
                Map<Long, List<RawNbdClient.Reply>> replies = client.readReplies(16);
                long took = System.nanoTime() - sent;
                assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(20), "answered after " + took + " ns");
                for (var e : replies.entrySet()) {
                    byte[] expected = new byte[4096];
                    Arrays.fill(expected, (byte) e.getKey().intValue());
                    assertEquals(0, RawNbdClient.errorOf(e.getValue()), "read " + e.getKey());
                    long offset = 4096L * (e.getKey() - 1);
                    assertArrayEquals(
                            expected, RawNbdClient.assemble(offset, 4096, e.getValue()), "read " + e.getKey());
                }
            }
        }
        // The first requests may arrive while the reader is still a virtual thread (then the
        // delay thread serves); once on its platform thread, the reader serves them.
        assertTrue(device.readers.contains("nbd-conn-N"), "the reader served delayed reads: " + device.readers);
        assertEquals(
                Set.of("nbd-conn-N"),
                device.readers.stream()
                        .filter(n -> !n.startsWith("nbd-delays-"))
                        .collect(java.util.stream.Collectors.toSet()),
                "no other thread read: " + device.readers);
    }
}
