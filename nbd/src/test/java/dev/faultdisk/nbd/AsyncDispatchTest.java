package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A request held inside the device stack does not hold up later requests on the same connection. */
class AsyncDispatchTest {

    /** Holds every read at offset 0 until released; says it may block, as a fault layer would. */
    static final class HoldingDevice extends ForwardingBlockDevice {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch held = new CountDownLatch(1);

        HoldingDevice(BlockDevice next) {
            super(next);
        }

        @Override
        public boolean mayBlock() {
            return true;
        }

        @Override
        public void read(BlockRequest r, ByteBuffer dst) throws IOException {
            if (r.offset() == 0) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            super.read(r, dst);
        }
    }

    @Test
    void heldReadDoesNotBlockOthersAndRepliesOutOfOrder() throws Exception {
        HoldingDevice device = new HoldingDevice(new MemoryDevice(1 << 20));
        ExportRegistry registry = new ExportRegistry();
        registry.add(new Export("d", device, false));
        try (NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
                Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            handshake(in, out, "d");

            request(out, NbdProtocol.CMD_READ, 1, 0, 512); // held
            assertTrue(device.held.await(5, TimeUnit.SECONDS));
            byte[] data = new byte[512];
            java.util.Arrays.fill(data, (byte) 0x5a);
            request(out, NbdProtocol.CMD_WRITE, 2, 4096, data.length);
            out.write(data);
            request(out, NbdProtocol.CMD_READ, 3, 4096, 512);
            out.flush();

            // Requests 2 and 3 run concurrently too: their replies may come in either order.
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (int i = 0; i < 2; i++) {
                long cookie = readSimpleReply(in, 0);
                seen.add(cookie);
                if (cookie == 3) {
                    byte[] back = new byte[512];
                    in.readFully(back);
                    // The write may not have run yet: the read sees either the old or the new data.
                    assertTrue(java.util.Arrays.equals(data, back) || java.util.Arrays.equals(new byte[512], back));
                }
            }
            assertEquals(java.util.Set.of(2L, 3L), seen, "both answered while request 1 is held");
            request(out, NbdProtocol.CMD_READ, 5, 4096, 512);
            out.flush();
            assertEquals(5, readSimpleReply(in, 0));
            byte[] back = new byte[512];
            in.readFully(back);
            assertArrayEquals(data, back, "the write's data, read after its reply");

            device.release.countDown();
            assertEquals(1, readSimpleReply(in, 0));
            in.readFully(new byte[512]);

            request(out, NbdProtocol.CMD_DISC, 4, 0, 0);
            out.flush();
            assertEquals(-1, in.read(), "server closes after DISC");
        }
        registry.close();
    }

    private static void handshake(DataInputStream in, DataOutputStream out, String export) throws IOException {
        assertEquals(NbdProtocol.NBDMAGIC, in.readLong());
        assertEquals(NbdProtocol.IHAVEOPT, in.readLong());
        in.readUnsignedShort();
        out.writeInt(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeInt(NbdProtocol.OPT_EXPORT_NAME);
        out.writeInt(name.length);
        out.write(name);
        out.flush();
        assertEquals(1 << 20, in.readLong());
        in.readUnsignedShort();
    }

    private static void request(DataOutputStream out, int type, long cookie, long offset, int length)
            throws IOException {
        out.writeInt(NbdProtocol.REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
    }

    private static long readSimpleReply(DataInputStream in, int expectedError) throws IOException {
        assertEquals(NbdProtocol.SIMPLE_REPLY_MAGIC, in.readInt());
        assertEquals(expectedError, in.readInt());
        return in.readLong();
    }
}
