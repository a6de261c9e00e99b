package dev.faultdisk.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.fault.blkdebug.BlkdebugConfigException;
import dev.faultdisk.fault.blkdebug.BlkdebugEvent;
import dev.faultdisk.fault.blkdebug.InjectErrorRule;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** blkdebug:CONF:IMAGE, ,rules=FILE and the engine every export has. */
class ExportBlkdebugTest {

    @Test
    void blkdebugFilenameSyntax() {
        ExportSpec s = ExportSpec.parse("d=blkdebug:/etc/rules.conf:/var/tmp/disk.img,size=1M,readonly");
        assertEquals(ExportSpec.Kind.FILE, s.kind());
        assertEquals(Path.of("/var/tmp/disk.img"), s.path());
        assertEquals(1 << 20, s.size());
        assertTrue(s.readOnly());
        assertEquals(List.of(Path.of("/etc/rules.conf")), s.ruleFiles());

        ExportSpec empty = ExportSpec.parse("d=blkdebug::memory:64M");
        assertEquals(ExportSpec.Kind.MEMORY, empty.kind());
        assertEquals(64 << 20, empty.size());
        assertEquals(List.of(), empty.ruleFiles(), "an empty CONF is allowed, as in QEMU");

        ExportSpec colons = ExportSpec.parse("d=blkdebug:c.conf:/tmp/a:b.img,rules=more.conf");
        assertEquals(Path.of("/tmp/a:b.img"), colons.path(), "the image path may contain colons");
        assertEquals(List.of(Path.of("c.conf"), Path.of("more.conf")), colons.ruleFiles());

        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ExportSpec.parse("d=blkdebug:only.conf"));
        assertTrue(e.getMessage().contains("blkdebug requires both config file and image path"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExportSpec.parse("d=memory:1M,rules="));
    }

    @Test
    void rulesOptionOnAnyExportLoadsIntoItsEngine() throws Exception {
        Path conf = Files.createTempFile("rules", ".conf");
        try {
            Files.writeString(conf, "[inject-error]\nevent = \"read_aio\"\nerrno = \"28\"\n");
            try (Export export = Export.open(ExportSpec.parse("d=memory:1M,rules=" + conf))) {
                assertEquals(
                        List.of(InjectErrorRule.on(BlkdebugEvent.READ_AIO).withErrno(Errno.ENOSPC)),
                        export.blkdebug().rules());
                DeviceException failure = assertThrows(
                        DeviceException.class, () -> Io.read(export.device(), 0, ByteBuffer.allocate(512)));
                assertEquals(Errno.ENOSPC, failure.errno());
                assertEquals(1, export.stats().errors(BlockOp.READ), "counted above blkdebug");
            }
            Files.writeString(conf, "[inject-error]\nevent = \"nope\"\n");
            BlkdebugConfigException bad = assertThrows(
                    BlkdebugConfigException.class,
                    () -> Export.open(ExportSpec.parse("d=blkdebug:" + conf + ":memory:1M")));
            assertTrue(bad.getMessage().startsWith(conf + ":2: "), bad.getMessage());
        } finally {
            Files.deleteIfExists(conf);
        }
    }

    @Test
    void everyExportHasAnIdleEngine() throws Exception {
        try (Export export = Export.open(ExportSpec.parse("d=memory:1M"))) {
            assertFalse(export.blkdebug().isEngaged());
            assertFalse(export.device().mayBlock());
            export.blkdebug().setBreakpoint(BlkdebugEvent.WRITE_AIO, "x");
            assertTrue(export.device().mayBlock(), "mayBlock reaches the top of the stack");
        }
    }
}
