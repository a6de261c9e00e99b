package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image open in a {@link FileDevice} is locked: a second opening (another process's, as a
 * second open file description here) may not write it while the first serves it, nor serve it
 * while the first writes it; read-only openings share it. Open file description locks conflict
 * within one process too, which is what lets one test process play both servers.
 */
class ImageLockTest {
    @TempDir
    Path dir;

    @Test
    void aWrittenImageIsRefusedToASecondOpeningUntilItCloses() throws IOException {
        Path image = dir.resolve("disk.img");
        FileDevice first = FileDevice.open(image, 1 << 20, false);
        try {
            IOException writable = assertThrows(IOException.class, () -> FileDevice.open(image, 2 << 20, false));
            assertEquals(
                    "image " + image + " is served by another faultdisk process: one image is served writable by one"
                            + " export only (add ,readonly to every export of it to share it)",
                    writable.getMessage());
            assertEquals(1 << 20, Files.size(image), "refused before it was extended to the size asked");
            IOException readOnly = assertThrows(IOException.class, () -> FileDevice.open(image, -1, true));
            assertTrue(readOnly.getMessage().startsWith("image " + image + " is written by another faultdisk process"));
        } finally {
            first.close();
        }
        try (FileDevice second = FileDevice.open(image, -1, false)) {
            assertEquals(1 << 20, second.size(), "closing let it go");
        }
    }

    @Test
    void readOnlyOpeningsShareAnImageAndKeepWritersOut() throws IOException {
        Path image = dir.resolve("shared.img");
        Files.write(image, new byte[8192]);
        try (FileDevice a = FileDevice.open(image, -1, true);
                FileDevice b = FileDevice.open(image, -1, true)) {
            assertEquals(8192, a.size() + b.size() - 8192);
            assertThrows(IOException.class, () -> FileDevice.open(image, -1, false));
        }
    }

    @Test
    void anExportWithLockingOffIsServedBesideAnotherWriter() throws IOException {
        Path image = dir.resolve("bench.img");
        try (FileDevice first = FileDevice.open(image, 1 << 20, false);
                Export second = Export.open(ExportSpec.parse("d=" + image + ",locking=off"))) {
            assertEquals(first.size(), second.size());
            assertThrows(IOException.class, () -> Export.open(ExportSpec.parse("e=" + image + ",locking=on")));
        }
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ExportSpec.parse("d=" + image + ",locking=no"));
        assertEquals("locking= is on or off, not 'no', in '" + image + ",locking=no'", e.getMessage());
    }

    @Test
    void theLockHoldsOneBytePastAnyData() throws IOException {
        Path image = dir.resolve("lock.img");
        Files.write(image, new byte[4096]);
        try (ImageLock lock = ImageLock.take(image, false)) {
            assertTrue(lock.held(), "Linux file systems under java.io.tmpdir take open file description locks");
            assertEquals(4096, Files.size(image), "a lock past the end does not grow the file");
        }
    }
}
