package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.CMD_FLUSH;
import static dev.faultdisk.nbd.NbdProtocol.CMD_READ;
import static dev.faultdisk.nbd.NbdProtocol.CMD_WRITE;
import static dev.faultdisk.nbd.NbdProtocol.SIMPLE_REPLY_MAGIC;
import static dev.faultdisk.nbd.NbdProtocol.STRUCTURED_REPLY_MAGIC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DisconnectException;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A layer's {@link DisconnectException} drops the connection: earlier replies go out whole, then
 * (mid-reply) part of this request's reply, then the socket closes. And the request tells layers
 * the connection it came from and whether it runs inline.
 */
class FaultDisconnectTest {
    private static final long DROP_AT = 1 << 20;

    /** Drops the connection on a request at {@link #DROP_AT}, after the I/O when mid-reply; records contexts. */
    static final class DroppingDevice extends ForwardingBlockDevice {
        private final boolean mayBlock;
        volatile boolean midReply;
        final Set<String> contexts = ConcurrentHashMap.newKeySet();

        DroppingDevice(BlockDevice next, boolean mayBlock) {
            super(next);
            this.mayBlock = mayBlock;
        }

        @Override
        public boolean mayBlock() {
            return mayBlock;
        }

        private void after(BlockRequest r) throws DisconnectException {
            contexts.add(r.connection() + (r.inline() ? " inline" : " own thread"));
            if (r.offset() == DROP_AT) {
                throw new DisconnectException("dropped", midReply);
            }
        }

        @Override
        public void read(BlockRequest r, ByteBuffer dst) throws IOException {
            super.read(r, dst);
            after(r);
        }

        @Override
        public void write(BlockRequest r, ByteBuffer src) throws IOException {
            super.write(r, src);
            after(r);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void dropBeforeTheReplySendsEarlierRepliesThenCloses(boolean offReader) throws IOException {
        MemoryDevice memory = new MemoryDevice(4 << 20);
        DroppingDevice device = new DroppingDevice(memory, offReader);
        try (LocalServer s = new LocalServer(device);
                RawNbdClient c = RawNbdClient.open(s.port(), "d", false, false)) {
            c.send(0, CMD_FLUSH, 1, 0, 0, null);
            assertEquals(0, c.readReply().error(), "the flush before is answered");
            c.send(0, CMD_WRITE, 2, DROP_AT, 1, new byte[] {7});
            assertArrayEquals(new byte[0], c.readUntilClosed(1 << 16), "no reply at all for the dropped request");
            try (RawNbdClient other = RawNbdClient.open(s.port(), "d", false, false)) {
                other.write(0, new byte[] {5});
                assertArrayEquals(new byte[] {5}, other.read(0, 1), "the server stays up");
            }
            ByteBuffer stored = ByteBuffer.allocate(1);
            memory.read(BlockRequest.of(BlockOp.READ, DROP_AT, 1), stored);
            assertEquals(7, stored.get(0), "this layer dropped after its write ran");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void dropMidReplySendsHalfAReadsDataOrHalfAHeader(boolean offReader) throws IOException {
        DroppingDevice device = new DroppingDevice(new MemoryDevice(4 << 20), offReader);
        device.midReply = true;
        try (LocalServer s = new LocalServer(device)) {
            byte[] data = new byte[4096];
            new java.util.SplittableRandom(1).nextBytes(data);
            try (RawNbdClient setup = RawNbdClient.open(s.port(), "d", false, false)) {
                setup.write(DROP_AT + 4096, data);
            }
            for (int length : new int[] {4096, 200_000}) {
                for (boolean structured : new boolean[] {false, true}) {
                    try (RawNbdClient c = RawNbdClient.open(s.port(), "d", structured, false)) {
                        c.send(0, CMD_READ, 9, DROP_AT, length, null);
                        ByteBuffer got = ByteBuffer.wrap(c.readUntilClosed(1 << 20));
                        int header = structured ? 20 + 8 : 16;
                        String what = (structured ? "structured" : "simple") + " read of " + length;
                        assertEquals(header + length / 2, got.remaining(), what + ": header and half the data");
                        assertEquals(structured ? STRUCTURED_REPLY_MAGIC : SIMPLE_REPLY_MAGIC, got.getInt(0), what);
                        if (structured) {
                            assertEquals(8 + length, got.getInt(16), what + ": the header announced all of it");
                        }
                        if (length > 8192) {
                            byte[] sent = new byte[4096];
                            got.get(header + 4096, sent);
                            assertArrayEquals(data, sent, what + ": real data in the part that went out");
                        }
                    }
                }
            }
            try (RawNbdClient c = RawNbdClient.open(s.port(), "d", false, false)) {
                c.send(0, CMD_WRITE, 10, DROP_AT, 512, new byte[512]);
                byte[] got = c.readUntilClosed(1 << 16);
                assertEquals(8, got.length, "half of the write's 16-byte reply");
                assertEquals(SIMPLE_REPLY_MAGIC, ByteBuffer.wrap(got).getInt());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void layersSeeTheConnectionAndWhetherTheRequestRunsInline(boolean offReader) throws IOException {
        DroppingDevice device = new DroppingDevice(new MemoryDevice(4 << 20), offReader);
        try (LocalServer s = new LocalServer(device);
                RawNbdClient a = RawNbdClient.open(s.port(), "d", false, false);
                RawNbdClient b = RawNbdClient.open(s.port(), "d", false, false)) {
            a.read(0, 512);
            b.write(0, new byte[512]);
            a.write(4096, new byte[512]);
            String how = offReader ? " own thread" : " inline";
            assertEquals(2, device.contexts.size(), device.contexts.toString());
            assertTrue(device.contexts.stream().allMatch(c -> c.endsWith(how)), device.contexts.toString());
            List<Long> ids = device.contexts.stream()
                    .map(c -> Long.parseLong(c.split(" ")[0]))
                    .sorted()
                    .toList();
            assertFalse(ids.get(0).equals(ids.get(1)), "two connections, two ids");
            assertTrue(ids.get(0) >= 1);
        }
    }
}
