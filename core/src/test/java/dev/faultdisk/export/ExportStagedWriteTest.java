package dev.faultdisk.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.fault.FaultRule;
import dev.faultdisk.fault.blkdebug.BlkdebugEvent;
import dev.faultdisk.fault.blkdebug.InjectErrorRule;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An export's stack takes a write's staged payload straight into its image file (or a memory
 * export's pages) only while every layer would pass the write untouched, doing for it what it does for any write (counting it,
 * taking the power switch); otherwise it leaves the payload alone for the buffered path.
 */
class ExportStagedWriteTest {
    private static final int MIB = 1 << 20;

    /** A payload of {@code bytes} that writes itself through the file's channel and says whether it was. */
    private static final class Payload implements StagedPayload {
        private final byte[] bytes;
        private int writes;
        private int taken;

        Payload(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public void readInto(ByteBuffer dst) {
            writes++; // a memory medium reads it into its pages, a run at a time (one here)
            int n = dst.remaining();
            dst.put(ByteBuffer.wrap(bytes, taken, n));
            taken += n;
        }

        @Override
        public void writeTo(FileChannel file, int fd, long offset) throws IOException {
            assertTrue(fd >= 0, "a descriptor open for writing");
            writes++;
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                file.write(b, offset + b.position());
            }
        }
    }

    private static BlockRequest write(long offset, long length, BlockRequest.Flag... flags) {
        return BlockRequest.of(BlockOp.WRITE, offset, length, flags);
    }

    /** Offers a payload of {@code fill} at {@code offset}; true if the stack wrote it (then exactly once). */
    private static boolean offer(Export e, long offset, int fill) throws IOException {
        Payload p = new Payload(Io.filled(64 * 1024, fill));
        boolean taken = e.device().writeStaged(write(offset, p.bytes.length), p);
        assertEquals(taken ? 1 : 0, p.writes, "written once if taken, else untouched");
        return taken;
    }

    @Test
    void eachLayerThatActsOnWritesLeavesThePayloadToTheBufferedPath(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("d.img");
        Files.write(image, Io.filled(MIB, 5));
        try (Export e = Export.open(ExportSpec.parse("d=" + image))) {
            assertTrue(offer(e, 0, 7), "nothing acts on writes");
            byte[] expected = Io.filled(MIB, 5);
            Arrays.fill(expected, 0, 64 * 1024, (byte) 7);
            assertArrayEquals(expected, Files.readAllBytes(image), "the payload landed at its place");
            assertEquals(1, e.stats().ops(BlockOp.WRITE), "counted as a write");

            List<Long> ids = e.faults().add(List.of(Map.of("type", "error", "ops", List.of("write"))), "rules").stream()
                    .map(FaultRule::id)
                    .toList();
            assertFalse(offer(e, 0, 8), "a fault rule");
            e.faults().remove(ids);
            assertTrue(offer(e, 0, 8), "the rule removed");

            e.power().powerOff(PowerFailMode.DROP_ALL, 1);
            Payload cut = new Payload(Io.filled(4096, 9));
            assertThrows(DeviceException.class, () -> e.device().writeStaged(write(0, 4096), cut), "power off");
            assertEquals(0, cut.writes, "nothing written with the power off");
            e.power().powerOn();

            e.createSnapshot("s");
            assertFalse(offer(e, 0, 10), "a snapshot: the write goes to a delta");
        }
        try (Export e = Export.open(ExportSpec.parse("d=" + image))) {
            e.historyStart(dir.resolve("run.history"), "base", MIB);
            assertFalse(offer(e, 0, 11), "a history recorded");
        }
        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",cache=writeback"))) {
            assertFalse(offer(e, 0, 12), "the write cache keeps writes");
        }
        try (Export e = Export.open(ExportSpec.parse("m=memory:1M"))) {
            assertTrue(offer(e, 4096, 13), "a memory export reads it into its pages");
            assertArrayEquals(Io.filled(64 * 1024, 13), Io.read(e.device(), 4096, 64 * 1024));
            assertEquals(1, e.stats().ops(BlockOp.WRITE), "counted as a write");
        }
    }

    /** Whether the stack offers pages to receive a write's payload into; any it offers go back. */
    private static boolean stages(Export e) {
        StagedPages pages = e.device().stagePages(0, 64 * 1024);
        if (pages != null) {
            pages.discard();
        }
        return pages != null;
    }

    /**
     * A memory export's stack offers its pages to receive a write's payload into only while every
     * layer would pass the write untouched (as it takes a staged payload), counting nothing for
     * the offer; the write received into them counts once; an image file offers none.
     */
    @Test
    void pagesToReceiveIntoAreOfferedOnlyWhereNoLayerActsOnWrites(@TempDir Path dir) throws IOException {
        try (Export e = Export.open(ExportSpec.parse("m=memory:1M"))) {
            assertTrue(stages(e), "nothing acts on writes");
            assertEquals(0, e.stats().ops(BlockOp.WRITE), "an offer is no request");
            StagedPages pages = e.device().stagePages(4096, 8192);
            pages.views()[0].put(Io.filled(8192, 14));
            try {
                assertTrue(e.device().writeStaged(write(4096, 8192), pages), "put in place");
            } finally {
                pages.discard();
            }
            assertArrayEquals(Io.filled(8192, 14), Io.read(e.device(), 4096, 8192));
            assertEquals(1, e.stats().ops(BlockOp.WRITE), "counted as a write");

            List<Long> ids = e.faults().add(List.of(Map.of("type", "error", "ops", List.of("write"))), "rules").stream()
                    .map(FaultRule::id)
                    .toList();
            assertFalse(stages(e), "a fault rule");
            e.faults().remove(ids);
            assertTrue(stages(e), "the rule removed");

            // A rule that comes between the payload's arrival and its write sees the write: the
            // stack refuses the pages, whose bytes then go the buffered way.
            StagedPages early = e.device().stagePages(0, 4096);
            early.views()[0].put(Io.filled(4096, 15));
            ids = e.faults().add(List.of(Map.of("type", "error", "ops", List.of("write"))), "rules").stream()
                    .map(FaultRule::id)
                    .toList();
            try {
                assertFalse(e.device().writeStaged(write(0, 4096), early), "the rule needs the write");
                ByteBuffer bytes = ByteBuffer.allocateDirect(4096);
                early.readInto(bytes);
                assertEquals(ByteBuffer.wrap(Io.filled(4096, 15)), bytes.flip(), "the payload read out whole");
                assertThrows(DeviceException.class, () -> e.device().write(write(0, 4096), bytes), "the rule fails it");
            } finally {
                early.discard();
            }
            e.faults().remove(ids);
            e.blkdebug().addRules(List.of(InjectErrorRule.on(BlkdebugEvent.WRITE_AIO)));
            assertFalse(stages(e), "a blkdebug rule");
            e.blkdebug().clearRules();
            assertTrue(stages(e), "the blkdebug rule removed");
            e.createSnapshot("s");
            assertFalse(stages(e), "a snapshot: writes go to a delta");
        }
        try (Export e = Export.open(ExportSpec.parse("m=memory:1M"))) {
            e.historyStart(dir.resolve("run.history"), "base", MIB);
            assertFalse(stages(e), "a history recorded");
        }
        try (Export e = Export.open(ExportSpec.parse("m=memory:1M,cache=writeback"))) {
            assertFalse(stages(e), "the write cache keeps writes");
        }
        Path image = dir.resolve("f.img");
        Files.write(image, Io.filled(MIB, 5));
        try (Export e = Export.open(ExportSpec.parse("f=" + image))) {
            assertFalse(stages(e), "an image file has no pages");
        }
    }
}
