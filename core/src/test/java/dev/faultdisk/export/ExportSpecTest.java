package dev.faultdisk.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.MemoryDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportSpecTest {

    @Test
    void memoryExports() {
        assertEquals(
                new ExportSpec("disk0", ExportSpec.Kind.MEMORY, null, 1L << 30, false),
                ExportSpec.parse("disk0=memory:1G"));
        assertEquals(
                new ExportSpec("d", ExportSpec.Kind.MEMORY, null, 2L << 20, true),
                ExportSpec.parse("d=memory:2M,readonly"));
        assertEquals(
                new ExportSpec("d", ExportSpec.Kind.MEMORY, null, 2L << 20, true),
                ExportSpec.parse("d=memory,size=2M,ro"));
    }

    @Test
    void fileExports() {
        assertEquals(
                new ExportSpec("data", ExportSpec.Kind.FILE, Path.of("/var/tmp/data.img"), -1, false),
                ExportSpec.parse("data=/var/tmp/data.img"));
        assertEquals(
                new ExportSpec("data", ExportSpec.Kind.FILE, Path.of("rel/x.img"), 4L << 30, true),
                ExportSpec.parse("data=rel/x.img,size=4G,readonly"));
    }

    @Test
    void badSpecsSayWhatIsWrong() {
        assertMessage("nameonly", "NAME=SPEC");
        assertMessage("d=", "has no image path or memory:SIZE");
        assertMessage("d=,size=1G", "has no image path or memory:SIZE");
        assertMessage("d=memory", "memory export needs a size");
        assertMessage("d=memory:", "not a size");
        assertMessage("d=memory:lots", "not a size: 'lots'");
        assertMessage("d=memory:-5", "size out of range: '-5'");
        assertMessage("d=/x.img,bogus", "unknown export option 'bogus'");
        assertMessage("d=/x.img,size=big", "not a size: 'big'");
        assertMessage("d=memory:1G,size=2G", "gives its size twice");
        assertMessage("=memory:1G", "export name is empty");
        assertMessage("x".repeat(4097) + "=memory:1M", "longer than 4096 bytes");
        // 2049 two-byte characters are 4098 bytes: the limit is on the name as sent, in UTF-8.
        assertMessage("é".repeat(2049) + "=memory:1M", "longer than 4096 bytes");
    }

    @Test
    void aMistypedBackendIsNamedAndNeverBecomesAFile(@TempDir Path dir) {
        // Taken as a path, ,size= would have created a 64 MiB file called "memroy:64M".
        assertMessage("disk0=memroy:64M", "unknown backend 'memroy:' in 'memroy:64M': did you mean memory:?");
        assertMessage("disk0=memroy:64M,size=64M", "did you mean memory:?");
        assertMessage("disk0=blkdbug::/x.img", "did you mean blkdebug:?");
        assertMessage("disk0=blkdebug::memroy:1M", "did you mean memory:?");
        assertMessage("disk0=nbd://host/x", "unknown backend 'nbd:' in 'nbd://host/x': (backends: memory:SIZE");
        // A relative file with a colon in its name is still served when written as a path.
        ExportSpec colon = ExportSpec.parse("d", "./memroy:64M,size=1M");
        assertEquals(Path.of("./memroy:64M"), colon.path());
        assertEquals(
                ExportSpec.Kind.FILE,
                ExportSpec.parse("d", dir.resolve("a:b.img") + ",size=1M").kind());
    }

    @Test
    void longestNameIsAccepted() {
        assertEquals(
                4096, ExportSpec.parse("x".repeat(4096) + "=memory:1M").name().length());
        assertEquals(
                2048, ExportSpec.parse("é".repeat(2048) + "=memory:1M").name().length());
    }

    @Test
    void hugeMemorySizeIsAClearErrorWhenOpened() {
        ExportSpec spec = ExportSpec.parse("d=memory:9223372036854775807");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, spec::openBackend);
        assertTrue(e.getMessage().contains("memory device size"), e.getMessage());
    }

    @Test
    void fileSpecCreatesSparseImageAndRefusesMissingOne(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("new.img");
        IOException missing = assertThrows(
                IOException.class, () -> ExportSpec.parse("d=" + image).openBackend());
        assertTrue(missing.getMessage().contains("size=SIZE"), missing.getMessage());
        IOException readOnly = assertThrows(
                IOException.class,
                () -> ExportSpec.parse("d=" + image + ",size=1M,readonly").openBackend());
        assertTrue(readOnly.getMessage().contains("read-only"), readOnly.getMessage());
        assertFalse(Files.exists(image));

        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",size=64M"))) {
            assertEquals(64L << 20, e.size());
            assertFalse(e.isReadOnly());
        }
        assertEquals(64L << 20, Files.size(image));
        // Reopening with a larger size extends; a smaller one never shrinks.
        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",size=1M"))) {
            assertEquals(64L << 20, e.size());
        }
        try (Export e = Export.open(ExportSpec.parse("d=" + image + ",size=128M,readonly"))) {
            assertEquals(64L << 20, e.size(), "read-only exports never change the file");
            assertTrue(e.isReadOnly());
        }
    }

    @Test
    void memorySpecOpensAnEmptyDevice() throws IOException {
        ExportSpec spec = ExportSpec.parse("m=memory:1T");
        assertNull(spec.path());
        try (Export e = Export.open(spec)) {
            assertEquals(1L << 40, e.size());
            assertEquals(0, ((MemoryDevice) e.backend()).allocatedBytes());
        }
    }

    private static void assertMessage(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExportSpec.parse(text), text);
        assertTrue(e.getMessage().contains(expected), "message for '" + text + "': " + e.getMessage());
    }
}
