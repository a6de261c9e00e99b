package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.DisconnectException;
import dev.faultdisk.device.Io;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErrorAndDisconnectTest {

    @Test
    void errorOnEveryOperationWithAnyErrnoAndNothingDone() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.write(0, Disk.filled(4096, 7));
            int[] errnos = {
                Errno.EIO, Errno.ENOSPC, Errno.EPERM, Errno.ENOMEM, Errno.ESHUTDOWN, Errno.EINVAL, Errno.ENOTSUP
            };
            for (int errno : errnos) {
                disk.faults().clear();
                disk.add(rule("type", "error", "errno", errno));
                List<ThrowingRunnable> ops = List.of(
                        () -> disk.read(0, 512),
                        () -> disk.write(0, new byte[512]),
                        () -> Io.flush(disk.device()),
                        () -> Io.trim(disk.device(), 0, 4096, false),
                        () -> Io.writeZeroes(disk.device(), 0, 4096, false, false, false),
                        () -> Io.extents(disk.device(), 0, 4096, (l, f) -> true));
                for (ThrowingRunnable op : ops) {
                    DeviceException e = assertThrows(DeviceException.class, op::run);
                    assertEquals(errno, e.errno());
                }
            }
            disk.faults().clear();
            assertArrayEquals(Disk.filled(4096, 7), disk.read(0, 4096), "no failed change reached the disk");
            assertEquals(
                    6L * errnos.length,
                    disk.export.stats().errors(BlockOp.READ)
                            + disk.export.stats().errors(BlockOp.WRITE)
                            + disk.export.stats().errors(BlockOp.FLUSH)
                            + disk.export.stats().errors(BlockOp.TRIM)
                            + disk.export.stats().errors(BlockOp.WRITE_ZEROES)
                            + disk.export.stats().errors(BlockOp.BLOCK_STATUS),
                    "counted above the fault layer");
            Map<String, Object> first = disk.faultEntries().getFirst();
            assertEquals("error EIO", first.get("action"));
            assertEquals("read", first.get("operation"));
        }
    }

    @Test
    void errorOffsetIsTheRequestsOffset() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "error", "errno", "EIO"));
            assertEquals(
                    8192,
                    assertThrows(DeviceException.class, () -> disk.read(8192, 512))
                            .offset());
            assertEquals(
                    -1,
                    assertThrows(DeviceException.class, () -> Io.flush(disk.device()))
                            .offset());
        }
    }

    @Test
    void disconnectBeforeTheRequestDoesNothing() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "disconnect", "ops", "write"));
            DisconnectException e = assertThrows(DisconnectException.class, () -> disk.write(0, Disk.filled(512, 1)));
            assertFalse(e.midReply());
            assertEquals(Errno.EIO, e.errno(), "in-process callers see EIO");
            disk.faults().clear();
            assertArrayEquals(new byte[512], disk.read(0, 512));
        }
    }

    @Test
    void disconnectMidReplyAfterTheRequestRan() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "disconnect", "ops", List.of("write", "read"), "mid-reply", true));
            DisconnectException e = assertThrows(DisconnectException.class, () -> disk.write(0, Disk.filled(512, 1)));
            assertEquals(true, e.midReply());
            ByteBuffer b = ByteBuffer.allocate(512);
            assertInstanceOf(
                    DisconnectException.class, assertThrows(DeviceException.class, () -> Io.read(disk.device(), 0, b)));
            assertArrayEquals(Disk.filled(512, 1), b.array(), "the read ran: its data is there for the partial reply");
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
