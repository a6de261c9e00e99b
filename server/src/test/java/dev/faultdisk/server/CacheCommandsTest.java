package dev.faultdisk.server;

import static dev.faultdisk.server.RunningServer.filled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The write cache and power switch over QMP. */
class CacheCommandsTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M"));

    private Export disk;

    @BeforeEach
    void findDisk() {
        disk = fd.export("d0");
    }

    @Test
    void powerFailLosesExactlyTheUnflushedWritesAndDropsConnections() throws Exception {
        assertEquals(
                Map.of("flush-error-disarmed", false),
                fd.execute(
                        "{\"execute\": \"write-cache-set-mode\", \"arguments\": {\"device\": \"d0\", \"mode\": \"writeback\"}}"));
        byte[] durable = filled(4096, 0x11);
        disk.device().write(BlockRequest.of(BlockOp.WRITE, 0, durable.length), ByteBuffer.wrap(durable));
        disk.device().flush(BlockRequest.flush());
        disk.device()
                .write(BlockRequest.of(BlockOp.WRITE, 8192, 4096), ByteBuffer.wrap(filled(4096, 0x22))); // unflushed
        disk.device()
                .write(
                        BlockRequest.of(BlockOp.WRITE, 65536, 512, BlockRequest.Flag.FUA),
                        ByteBuffer.wrap(filled(512, 0x33))); // FUA: durable

        Map<String, Object> status =
                fd.executeMap("{\"execute\": \"query-write-cache\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals("writeback", status.get("mode"));
        assertEquals(4096L, status.get("dirty-bytes"));
        assertEquals(1L, status.get("dirty-writes"));

        try (Socket nbd = nbdConnection()) {
            Map<String, Object> report =
                    fd.executeMap("{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"d0\", \"seed\": 42}}");
            assertEquals("drop-all", report.get("mode"));
            assertEquals(42L, report.get("seed"));
            assertEquals(4096L, report.get("bytes-lost"));
            assertEquals(List.of(Map.of("offset", 8192L, "length", 4096L)), report.get("lost-ranges"));
            assertEquals(-1, nbd.getInputStream().read(), "the NBD connection was dropped");
        }
        assertEquals("d0", fd.awaitEvent("POWER_FAIL").get("device"));

        assertArrayEquals(durable, read(0, 4096));
        assertArrayEquals(new byte[4096], read(8192, 4096));
        assertArrayEquals(filled(512, 0x33), read(65536, 512));
    }

    @Test
    void aWriteHeldAtABreakpointAcrossThePowerCutNeverLands() throws Exception {
        fd.execute(
                "{\"execute\": \"write-cache-set-mode\", \"arguments\": {\"device\": \"d0\", \"mode\": \"writeback\"}}");
        fd.execute(
                "{\"execute\": \"blkdebug-set-breakpoint\", \"arguments\": {\"device\": \"d0\", \"event\": \"write_aio\", \"tag\": \"held\"}}");
        java.util.concurrent.CompletableFuture<Throwable> write =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        disk.device()
                                .write(
                                        BlockRequest.of(BlockOp.WRITE, 0, 4096, BlockRequest.Flag.FUA),
                                        ByteBuffer.wrap(filled(4096, 0x44)));
                        return null;
                    } catch (Exception e) {
                        return e;
                    }
                });
        fd.awaitEvent("BLKDEBUG_SUSPENDED");
        fd.execute("{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"d0\", \"seed\": 1}}");
        fd.execute("{\"execute\": \"blkdebug-resume\", \"arguments\": {\"device\": \"d0\", \"tag\": \"held\"}}");
        Throwable failure = write.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(
                failure instanceof dev.faultdisk.device.DeviceException de
                        && de.errno() == dev.faultdisk.wire.Errno.ESHUTDOWN,
                "held FUA write fails: " + failure);
        assertArrayEquals(new byte[4096], read(0, 4096), "and its data never reached the disk");
    }

    @Test
    void switchingToWritethroughReportsTheFlushErrorItDisarmed() throws Exception {
        String writeback =
                "{\"execute\": \"write-cache-set-mode\", \"arguments\": {\"device\": \"d0\", \"mode\": \"writeback\"}}";
        String writethrough = writeback.replace("writeback", "writethrough");
        fd.execute(writeback);
        fd.execute("{\"execute\": \"write-cache-arm-flush-error\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals(Map.of("flush-error-disarmed", true), fd.execute(writethrough));
        assertEquals(
                false,
                fd.executeMap("{\"execute\": \"query-write-cache\", \"arguments\": {\"device\": \"d0\"}}")
                        .get("deferred-error-armed"));
        // The flush after a later write succeeds: the error no longer waits for it.
        disk.device().write(BlockRequest.of(BlockOp.WRITE, 0, 512), ByteBuffer.wrap(filled(512, 1)));
        disk.device().flush(BlockRequest.flush());
        assertEquals(Map.of("flush-error-disarmed", false), fd.execute(writethrough));
    }

    @Test
    void badInputIsAClearError() throws Exception {
        String[][] cases = {
            {
                "{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"nope\"}}",
                "DeviceNotFound: Device 'nope' not found"
            },
            {
                "{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"d0\", \"mode\": \"melt\"}}",
                "GenericError: Parameter 'mode' does not accept value 'melt'"
            },
            {
                "{\"execute\": \"write-cache-set-mode\", \"arguments\": {\"device\": \"d0\", \"mode\": \"fast\"}}",
                "GenericError: Parameter 'mode' does not accept value 'fast'"
            },
            {
                "{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"d0\", \"seed\": \"x\"}}",
                "GenericError: Invalid parameter type for 'seed', expected: integer"
            },
        };
        for (String[] c : cases) {
            String desc = fd.error(c[0]);
            assertTrue(desc.startsWith(c[1]), c[0] + " -> " + desc);
        }
        assertEquals(0L, disk.writeCache().status().powerFails());
    }

    private byte[] read(long offset, int length) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(length);
        disk.device().read(BlockRequest.of(BlockOp.READ, offset, b.remaining()), b);
        return b.array();
    }

    /** An NBD connection in transmission (fixed newstyle, EXPORT_NAME). */
    private Socket nbdConnection() throws Exception {
        Socket s = new Socket();
        s.connect(fd.server.nbdAddress(), 5000);
        s.setSoTimeout(10_000);
        DataInputStream in = new DataInputStream(s.getInputStream());
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        in.readLong();
        in.readLong();
        in.readUnsignedShort();
        out.writeInt(3);
        byte[] name = "d0".getBytes(StandardCharsets.UTF_8);
        out.writeLong(0x49484156454F5054L);
        out.writeInt(1);
        out.writeInt(name.length);
        out.write(name);
        out.flush();
        assertEquals(1 << 20, in.readLong());
        in.readUnsignedShort();
        return s;
    }
}
