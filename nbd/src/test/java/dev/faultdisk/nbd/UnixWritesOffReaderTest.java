package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Over a Unix socket, where asked for, a large write runs on a thread of its own while the reader
 * receives the next, but only while the payload budget has room: past it the writes are received and written on the
 * reader, as without this path, and none is refused.
 */
class UnixWritesOffReaderTest {
    private static final int MIB = 1 << 20;

    /** Holds every write until {@link #open} opens. */
    private static final class HeldWrites extends ForwardingBlockDevice {
        final CountDownLatch open = new CountDownLatch(1);
        final AtomicInteger arrived = new AtomicInteger();
        /** Writes that arrived on one of the kept platform writers ({@link OffReaderWriters}). */
        final AtomicInteger onWriters = new AtomicInteger();
        /** Writes that arrived on a virtual thread. */
        final AtomicInteger onVirtual = new AtomicInteger();

        HeldWrites(MemoryDevice next) {
            super(next);
        }

        @Override
        public void write(BlockRequest r, ByteBuffer src) throws IOException {
            Thread t = Thread.currentThread();
            if (t.isVirtual()) {
                onVirtual.incrementAndGet();
            } else if (t.getName().equals(OffReaderWriters.NAME)) {
                onWriters.incrementAndGet();
            }
            arrived.incrementAndGet();
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            }
            super.write(r, src);
        }
    }

    @Test
    @Timeout(120) // a Unix socket's client reads without a timeout of its own
    void pastThePayloadBudgetLargeWritesStayOnTheReaderInsteadOfFailing(@TempDir Path dir) throws Exception {
        int writes = 40; // more than the connection's share of the budget holds (32 of 1 MiB)
        MemoryDevice memory = new MemoryDevice((long) writes * MIB);
        HeldWrites device = new HeldWrites(memory);
        Path socket = dir.resolve("nbd.sock");
        NbdServer started = offReaderServer(device);
        try (NbdServer server = started.start(UnixDomainSocketAddress.of(socket));
                RawNbdClient client = RawNbdClient.open(socket, "d", true, false)) {
            // Meanwhile the writes that fit the budget wait off the reader, and the next on it (the
            // sends below then wait for the reader too, so the writes are let go from elsewhere). A
            // write is counted off the reader before it is handed over, so more writes at the device
            // than counted means one is on the reader: the budget was reached, however slow the sends.
            int[] atOpen = new int[2]; // writes held on writer threads, on virtual threads
            Thread opener = Thread.ofVirtual().start(() -> {
                try {
                    await().atMost(Duration.ofSeconds(60)).until(() -> device.arrived.get() > server.writesOffReader());
                    atOpen[0] = device.onWriters.get();
                    atOpen[1] = device.onVirtual.get();
                } finally {
                    device.open.countDown(); // else a missed budget hangs the test instead of failing it
                }
            });
            for (int i = 0; i < writes; i++) {
                byte[] payload = new byte[MIB];
                Arrays.fill(payload, (byte) (i + 1));
                client.send(0, NbdProtocol.CMD_WRITE, i + 1, (long) i * MIB, MIB, payload);
            }
            client.flush();
            opener.join();
            Map<Long, List<RawNbdClient.Reply>> replies = client.readReplies(writes);
            for (var e : replies.entrySet()) {
                assertEquals(0, RawNbdClient.errorOf(e.getValue()), "write " + e.getKey());
            }
            long offReader = server.writesOffReader();
            assertTrue(
                    offReader >= 1 && offReader < writes, offReader + " of " + writes + " writes ran off the reader");
            // Until the writes were let go, those off the reader waited on the kept platform writers
            // (the budget, 32 held at once, is within their bound, 32): none on a virtual thread.
            // After, a write may meet every writer still on its way back, and take a virtual one.
            assertTrue(atOpen[0] >= 1, atOpen[0] + " writes held on the kept platform writers");
            assertEquals(0, atOpen[1], "writes held on virtual threads");
        }
        for (int i = 0; i < writes; i++) {
            byte[] expected = new byte[MIB];
            Arrays.fill(expected, (byte) (i + 1));
            ByteBuffer got = ByteBuffer.allocate(MIB);
            memory.read(BlockRequest.of(BlockOp.READ, (long) i * MIB, MIB), got);
            assertArrayEquals(expected, got.array(), "the data of write " + (i + 1));
        }
    }

    /**
     * A large write off the reader to a memory export is received straight into the export's
     * pages and put in place by its writer: one copy in the server. The pages count in the payload
     * budget as the buffer they stand in for (all of it given back after; past it the writes go on
     * the reader, as the test above shows for buffers); the bytes land wherever a write starts and
     * ends. Where a layer comes to act on writes between a payload's arrival and its write
     * (refuses the pages it offered), the bytes are copied out of them and written as any other.
     */
    @ParameterizedTest(name = "a layer refuses the pages: {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void largeWritesOffTheReaderGoIntoAMemoryExportsPagesCountedInTheBudget(boolean refused, @TempDir Path dir)
            throws Exception {
        int writes = 40; // more than the budget holds (32 of 1 MiB)
        MemoryDevice memory = new MemoryDevice((long) (writes + 1) * MIB);
        AtomicInteger copied = new AtomicInteger();
        BlockDevice top = !refused
                ? memory
                : new ForwardingBlockDevice(memory) {
                    @Override
                    public StagedPages stagePages(long offset, int length) {
                        return memory.stagePages(offset, length); // offered, then refused by writeStaged
                    }

                    @Override
                    public void write(BlockRequest r, ByteBuffer src) throws IOException {
                        copied.incrementAndGet();
                        super.write(r, src);
                    }
                };
        Path socket = dir.resolve("nbd.sock");
        NbdServer started = offReaderServer(top);
        byte[] expected = new byte[(writes + 1) * MIB];
        try (NbdServer server = started.start(UnixDomainSocketAddress.of(socket));
                RawNbdClient client = RawNbdClient.open(socket, "d", true, false)) {
            for (int i = 0; i < writes; i++) {
                byte[] payload = new byte[MIB];
                Arrays.fill(payload, (byte) (i + 1));
                System.arraycopy(payload, 0, expected, i * MIB, MIB);
                client.send(0, NbdProtocol.CMD_WRITE, i + 1, (long) i * MIB, MIB, payload);
            }
            int odd = 700_001; // starts and ends inside pages
            byte[] payload = new byte[odd];
            Arrays.fill(payload, (byte) 0x5a);
            System.arraycopy(payload, 0, expected, 1_000_003, odd);
            client.send(0, NbdProtocol.CMD_WRITE, writes + 1, 1_000_003, odd, payload);
            client.flush();
            Map<Long, List<RawNbdClient.Reply>> replies = client.readReplies(writes + 1);
            for (var e : replies.entrySet()) {
                assertEquals(0, RawNbdClient.errorOf(e.getValue()), "write " + e.getKey());
            }
            long offReader = server.writesOffReader();
            assertTrue(offReader >= 1, offReader + " writes ran off the reader");
            assertEquals(refused ? 0 : writes + 1, server.writesIntoPages(), "writes put in place as pages");
            assertEquals(refused ? writes + 1 : 0, copied.get(), "writes copied out of their pages");
            await().atMost(Duration.ofSeconds(10)).until(server::payloadBytesInUse, used -> used == 0);
        }
        ByteBuffer got = ByteBuffer.allocate(expected.length);
        memory.read(BlockRequest.of(BlockOp.READ, 0, expected.length), got);
        assertArrayEquals(expected, got.array(), "the export's bytes");
        assertEquals((long) writes * MIB, memory.allocatedBytes(), "the pages written, none more");
    }

    /**
     * A server exporting {@code device} as "d" with large writes off the reader (off by default),
     * every large write taking that way at once, not only once its stream has run alone for a
     * while, and the least payload budget allowed (a connection's share is all of it).
     */
    private static NbdServer offReaderServer(BlockDevice device) throws IOException {
        ExportRegistry registry = new ExportRegistry();
        registry.add(
                new Export("d", device, false, new BlkdebugEngine(), CacheMode.WRITETHROUGH, FaultTime.system(), 1));
        NbdServer.Options defaults = NbdServer.Options.defaults();
        NbdServer.Options options = new NbdServer.Options(
                defaults.maxConnections(),
                64,
                NbdProtocol.MAX_PAYLOAD,
                defaults.handshakeTimeout(),
                defaults.tlsMode(),
                defaults.tls(),
                defaults.psk());
        System.setProperty("faultdisk.nbd.unixWritesOffReader", "true");
        System.setProperty("faultdisk.nbd.largeWritesAloneMillis", "0");
        try {
            return new NbdServer(registry, options);
        } finally {
            System.clearProperty("faultdisk.nbd.unixWritesOffReader");
            System.clearProperty("faultdisk.nbd.largeWritesAloneMillis");
        }
    }
}
