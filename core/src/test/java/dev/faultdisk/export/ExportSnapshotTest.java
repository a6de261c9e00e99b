package dev.faultdisk.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cache.ByteRange;
import dev.faultdisk.cache.PowerFailReport;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.snapshot.SnapshotDevice;
import dev.faultdisk.snapshot.SnapshotVolume;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots through an export's stack: revert, the write cache and power failures across it, bad input. */
class ExportSnapshotTest {
    private static final int MIB = 1 << 20;

    private static Export memory(CacheMode mode) {
        return new Export("d", new MemoryDevice(4 * MIB), false, new BlkdebugEngine(), mode);
    }

    @Test
    void revertReturnsToTheSnapshotAndKeepsIt() throws Exception {
        try (Export e = memory(CacheMode.WRITETHROUGH)) {
            Io.write(e.device(), 0, Io.filled(4096, 1), false);
            SnapshotVolume.Snapshotted taken = e.createSnapshot("clean");
            assertEquals(0, taken.bytesChangedSince());
            Io.write(e.device(), 0, Io.filled(512, 2), false);
            Io.write(e.device(), 3 * MIB, Io.filled(8192, 3), false);
            assertEquals(3 * 4096, e.snapshots().getFirst().bytesChangedSince(), "whole 4 KiB blocks");

            SnapshotRevert revert = e.revertSnapshot("clean");
            assertEquals(new SnapshotRevert("clean", 3 * 4096, 0, 0), revert);
            assertArrayEquals(Io.filled(4096, 1), Io.read(e.device(), 0, 4096));
            assertArrayEquals(new byte[8192], Io.read(e.device(), 3 * MIB, 8192));

            Io.write(e.device(), 0, Io.filled(4096, 4), false);
            e.revertSnapshot("clean");
            assertArrayEquals(
                    Io.filled(4096, 1), Io.read(e.device(), 0, 4096), "the snapshot stays for the next revert");
        }
    }

    /**
     * Writeback: write, snapshot, write, revert, power-fail. The snapshot holds what clients read
     * (the cache was persisted into it); the revert drops the cache's dirty data and says so; the
     * power failure then sees only what was written after the revert.
     */
    @Test
    void theWriteCacheAndPowerFailModelStayRightAcrossARevert() throws Exception {
        try (Export e = memory(CacheMode.WRITEBACK)) {
            Io.write(e.device(), 0, Io.filled(4096, 1), false); // dirty
            e.createSnapshot("s");
            assertEquals(0, e.writeCache().status().dirtyBytes(), "taking a snapshot persists the cache");

            Io.write(
                    e.device(),
                    8192,
                    Io.filled(4096, 2),
                    true); // FUA: reaches the medium, so the revert drops it there
            Io.write(e.device(), 0, Io.filled(4096, 3), false); // dirty
            Io.write(e.device(), 65536, Io.filled(1024, 4), false); // dirty
            assertEquals(5120, e.writeCache().status().dirtyBytes());

            SnapshotRevert revert = e.revertSnapshot("s");
            assertEquals(new SnapshotRevert("s", 4096, 5120, 2), revert);
            assertEquals(0, e.writeCache().status().dirtyBytes());
            assertArrayEquals(Io.filled(4096, 1), Io.read(e.device(), 0, 4096));
            assertArrayEquals(new byte[4096], Io.read(e.device(), 8192, 4096));
            assertArrayEquals(new byte[1024], Io.read(e.device(), 65536, 1024));

            Io.write(e.device(), 12288, Io.filled(2048, 5), false); // dirty after the revert
            PowerFailReport report = e.powerFail(PowerFailMode.DROP_ALL, 1);
            assertEquals(1, report.dirtyWrites());
            assertEquals(2048, report.bytesLost());
            assertEquals(List.of(new ByteRange(12288, 2048)), report.lostRanges());
            assertArrayEquals(Io.filled(4096, 1), Io.read(e.device(), 0, 4096));
            assertArrayEquals(new byte[2048], Io.read(e.device(), 12288, 2048));
            assertArrayEquals(new byte[4096], Io.read(e.device(), 8192, 4096));
        }
    }

    @Test
    void badInputIsAClearErrorAndChangesNothing() throws Exception {
        try (Export e = memory(CacheMode.WRITEBACK)) {
            e.createSnapshot("a");
            Io.write(e.device(), 0, Io.filled(4096, 7), false);

            IllegalArgumentException unknown =
                    assertThrows(IllegalArgumentException.class, () -> e.revertSnapshot("b"));
            assertEquals("export 'd' has no snapshot 'b' (it has: a)", unknown.getMessage());
            assertThrows(IllegalArgumentException.class, () -> e.deleteSnapshot("b"));
            IllegalArgumentException taken = assertThrows(IllegalArgumentException.class, () -> e.createSnapshot("a"));
            assertEquals("export 'd' has a snapshot 'a' already", taken.getMessage());
            assertThrows(IllegalArgumentException.class, () -> e.createSnapshot(""));
            assertThrows(IllegalArgumentException.class, () -> e.createSnapshot("-x"));
            assertEquals(4096, e.writeCache().status().dirtyBytes(), "no error persisted or dropped the cache");

            for (int i = 1; i < SnapshotVolume.MAX_SNAPSHOTS; i++) {
                e.createSnapshot("s" + i);
            }
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> e.createSnapshot("z"));
            assertTrue(full.getMessage().contains("64 snapshots"), full.getMessage());
            assertEquals(SnapshotVolume.MAX_SNAPSHOTS, e.snapshots().size());
            assertArrayEquals(Io.filled(4096, 7), Io.read(e.device(), 0, 4096));
        }
    }

    @Test
    void deletingTheLastSnapshotWritesTheChangesIntoTheFile(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("disk.img");
        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",size=1M"))) {
            Io.write(e.device(), 0, Io.filled(4096, 1), false);
            e.createSnapshot("s");
            Io.write(e.device(), 4096, Io.filled(4096, 2), false);
            assertArrayEquals(new byte[4096], Arrays.copyOfRange(Files.readAllBytes(image), 4096, 8192));
            e.deleteSnapshot("s");
            assertEquals(List.of(), e.snapshots());
            assertArrayEquals(Io.filled(4096, 2), Arrays.copyOfRange(Files.readAllBytes(image), 4096, 8192));
        }
        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",size=1M"))) {
            e.createSnapshot("s");
            Io.write(e.device(), 8192, Io.filled(4096, 3), false);
        }
        assertArrayEquals(
                Io.filled(4096, 3),
                Arrays.copyOfRange(Files.readAllBytes(image), 8192, 12288),
                "closing an export with snapshots keeps its latest data in the file");
    }

    /** Without snapshots the layer hands the backend the very request it got, flags included. */
    @Test
    void withoutSnapshotsRequestsReachTheBackendUnchanged() throws Exception {
        List<BlockRequest> seen = new ArrayList<>();
        BlockDevice backend = new ForwardingBlockDevice(new MemoryDevice(MIB)) {
            @Override
            public void write(BlockRequest r, ByteBuffer src) throws IOException {
                seen.add(r);
                super.write(r, src);
            }
        };
        try (SnapshotDevice device = new SnapshotDevice(backend)) {
            BlockRequest fua = BlockRequest.of(BlockOp.WRITE, 4096, 512, BlockRequest.Flag.FUA);
            device.write(fua, ByteBuffer.allocate(512));
            assertEquals(List.of(fua), seen);
            assertSame(fua, seen.getFirst(), "the same object: nothing allocated");
        }
    }
}
