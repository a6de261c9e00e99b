package dev.faultdisk.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Io;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An export's stack offers its image for sendfile only while every layer would pass the read
 * untouched; the frontend then sends the bytes from the file instead of reading them.
 */
class ExportReadSourceTest {
    private static final int MIB = 1 << 20;

    private static BlockRequest read(long offset, long length) {
        return BlockRequest.of(BlockOp.READ, offset, length, 0, 1, true);
    }

    @Test
    void eachLayerThatActsOnReadsKeepsThemOffTheFile(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("d.img");
        Files.write(image, Io.filled(MIB, 5));
        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",cache=writeback"))) {
            assertNotNull(e.device().readSource(read(0, MIB)), "nothing acts on reads");
            assertEquals(1, e.stats().ops(BlockOp.READ), "counted as a read");

            List<Long> ids = e.faults().add(List.of(Map.of("type", "error", "ops", List.of("read"))), "rules").stream()
                    .map(dev.faultdisk.fault.FaultRule::id)
                    .toList();
            assertNull(e.device().readSource(read(0, MIB)), "a fault rule");
            e.faults().remove(ids);
            assertNotNull(e.device().readSource(read(0, MIB)), "the rule removed");

            Io.write(e.device(), 0, Io.filled(4096, 6), false);
            assertNull(e.device().readSource(read(0, 64 * 1024)), "data in the write cache over the range");
            assertNotNull(e.device().readSource(read(MIB / 2, MIB / 2)), "the cache holds nothing in this range");
            e.device().flush(BlockRequest.flush());
            assertNotNull(e.device().readSource(read(0, 64 * 1024)), "written back");

            e.createSnapshot("s");
            assertNull(e.device().readSource(read(0, MIB)), "a snapshot: the data may lie in a delta");
        }
        try (Export e = Export.open(ExportSpec.parse("d=" + image))) {
            e.historyStart(dir.resolve("run.history"), "base", MIB);
            assertNull(e.device().readSource(read(0, MIB)), "a history recorded");
        }
    }
}
