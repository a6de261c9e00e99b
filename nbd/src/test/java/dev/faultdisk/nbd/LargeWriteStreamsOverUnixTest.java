package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.CacheMode;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Over a Unix socket, with the path asked for ({@code faultdisk.nbd.unixWritesOffReader}; off by
 * default), large writes go off the reader for a connection that sends them alone, and stay on
 * the readers of connections that send them together (LargeWriteStreams).
 */
class LargeWriteStreamsOverUnixTest {
    private static final int MIB = 1 << 20;
    private static final int WRITES = 8;

    @Test
    @Timeout(120) // a Unix socket's client reads without a timeout of its own
    void twoStreamsWriteOnTheirReadersAndALoneOneOffItsReader(@TempDir Path dir) throws Exception {
        ExportRegistry registry = new ExportRegistry();
        registry.add(new Export(
                "d",
                new MemoryDevice((long) WRITES * MIB),
                false,
                new BlkdebugEngine(),
                CacheMode.WRITETHROUGH,
                FaultTime.system(),
                1));
        Path socket = dir.resolve("nbd.sock");
        System.setProperty("faultdisk.nbd.unixWritesOffReader", "true");
        NbdServer started;
        try {
            started = new NbdServer(registry);
        } finally {
            System.clearProperty("faultdisk.nbd.unixWritesOffReader");
        }
        try (NbdServer server = started.start(UnixDomainSocketAddress.of(socket));
                RawNbdClient a = RawNbdClient.open(socket, "d", true, false);
                RawNbdClient b = RawNbdClient.open(socket, "d", true, false)) {
            long handle = 1;
            for (int i = 0; i < 40; i++) {
                write(a, handle++, i);
                write(b, handle++, i);
            }
            long together = server.writesOffReader();
            // A pause of the window between two writes (a collection, a busy machine) may let one go.
            assertTrue(together <= 2, together + " of 80 writes from two streams ran off their readers");
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20 * LargeWriteStreams.RECENT_MILLIS);
            int alone = 0;
            while (System.nanoTime() < end || alone < 10) {
                write(a, handle++, alone++);
            }
            assertTrue(
                    server.writesOffReader() > together,
                    "none of " + alone + " writes from a stream alone for " + 20 * LargeWriteStreams.RECENT_MILLIS
                            + " ms ran off its reader");
        }
    }

    private static void write(RawNbdClient client, long handle, int i) throws Exception {
        byte[] payload = new byte[MIB];
        Arrays.fill(payload, (byte) (handle + i));
        client.send(0, NbdProtocol.CMD_WRITE, handle, (long) (i % WRITES) * MIB, MIB, payload);
        client.flush();
        var replies = client.readReplies(1);
        assertEquals(0, RawNbdClient.errorOf(replies.get(handle)), "write " + handle);
    }
}
