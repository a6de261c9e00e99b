package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A device stack that fails: errno errors become the spec's replies (with the failing offset
 * where structured), and a layer that throws an unchecked exception costs its client the
 * connection, never a reply it waits for forever. Inline and off the reader thread alike.
 */
class DeviceFailureTest {
    private static final long BAD = 1 << 20;

    /** Fails I/O touching the 4 KiB block at {@link #BAD}: EIO, ENOSPC, a plain IOException or a bug. */
    static final class FailingDevice extends ForwardingBlockDevice {
        private final boolean mayBlock;
        volatile String mode = "eio";

        FailingDevice(BlockDevice next, boolean mayBlock) {
            super(next);
            this.mayBlock = mayBlock;
        }

        @Override
        public boolean mayBlock() {
            return mayBlock;
        }

        private void check(long offset, long length) throws IOException {
            if (offset < BAD + 4096 && offset + length > BAD) {
                long at = Math.max(offset, BAD);
                switch (mode) {
                    case "eio" -> throw new DeviceException(Errno.EIO, "injected", at);
                    case "edquot" -> throw new DeviceException(Errno.EDQUOT, "injected");
                    case "io" -> throw new IOException("plain failure");
                    default -> throw new IllegalStateException("a bug in a layer");
                }
            }
        }

        @Override
        public void read(BlockRequest r, ByteBuffer dst) throws IOException {
            check(r.offset(), r.length());
            super.read(r, dst);
        }

        @Override
        public void write(BlockRequest r, ByteBuffer src) throws IOException {
            check(r.offset(), r.length());
            super.write(r, src);
        }

        @Override
        public void extents(BlockRequest r, dev.faultdisk.device.ExtentSink sink) throws IOException {
            check(r.offset(), r.length());
            super.extents(r, sink);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void errnoFailuresGetTheMappedErrorAndTheConnectionGoesOn(boolean offReader) throws IOException {
        FailingDevice device = new FailingDevice(new MemoryDevice(8 << 20), offReader);
        try (LocalServer s = new LocalServer(device);
                RawNbdClient structured = RawNbdClient.open(s.port(), "d", true, true);
                RawNbdClient simple = RawNbdClient.open(s.port(), "d", false, false)) {
            for (int length : new int[] {512, 200_000}) {
                long offset = BAD - 100;
                structured.send(0, CMD_READ, 1, offset, length, null);
                List<RawNbdClient.Reply> r = structured.readAll(1);
                RawNbdClient.Reply last = r.getLast();
                assertEquals(REPLY_TYPE_ERROR_OFFSET, last.type(), "length " + length);
                ByteBuffer p = last.payload();
                assertEquals(EIO, p.getInt());
                int messageLength = Short.toUnsignedInt(p.getShort());
                p.position(p.position() + messageLength);
                assertEquals(BAD, p.getLong(), "the failing offset");

                assertEquals(EIO, simple.command(0, CMD_READ, 2, offset, length, null));
                assertEquals(EIO, simple.command(0, CMD_WRITE, 3, offset, length, new byte[length]));
            }
            device.mode = "edquot";
            assertEquals(ENOSPC, simple.command(0, CMD_WRITE, 4, BAD, 512, new byte[512]));
            device.mode = "io";
            assertEquals(EIO, simple.command(0, CMD_READ, 5, BAD, 512, null));
            assertEquals(EIO, structured.command(0, CMD_BLOCK_STATUS, 6, BAD, 512, null));
            // Both connections still work.
            for (RawNbdClient c : List.of(structured, simple)) {
                c.write(0, new byte[] {1, 2});
                assertArrayEquals(new byte[] {1, 2}, c.read(0, 2));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void uncheckedExceptionInTheStackDropsOnlyThatConnection(boolean offReader) throws IOException {
        FailingDevice device = new FailingDevice(new MemoryDevice(8 << 20), offReader);
        device.mode = "bug";
        try (LocalServer s = new LocalServer(device);
                RawNbdClient bystander = RawNbdClient.open(s.port(), "d", true, true)) {
            for (int type : new int[] {CMD_READ, CMD_WRITE}) {
                try (RawNbdClient c = RawNbdClient.open(s.port(), "d", true, true)) {
                    c.send(0, type, 7, BAD, 512, type == CMD_WRITE ? new byte[512] : null);
                    c.flush();
                    assertTrue(c.isDropped(), "the client is told by a closed connection, not left waiting");
                }
            }
            bystander.write(0, new byte[] {3});
            assertArrayEquals(new byte[] {3}, bystander.read(0, 1));
        }
    }
}
