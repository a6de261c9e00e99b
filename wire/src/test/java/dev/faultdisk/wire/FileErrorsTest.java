package dev.faultdisk.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileErrorsTest {
    @TempDir
    Path dir;

    @Test
    void aMissingFileADirectoryAndAFileUsedAsADirectoryAreSaidInWords() throws IOException {
        Path missing = dir.resolve("missing.json");
        assertEquals(
                "no such file or directory",
                FileErrors.reason(assertThrows(IOException.class, () -> Files.readString(missing))));
        assertEquals("Is a directory", FileErrors.reason(assertThrows(IOException.class, () -> Files.readString(dir))));
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertEquals(
                "Not a directory",
                FileErrors.reason(assertThrows(IOException.class, () -> Files.readString(file.resolve("below")))));
        assertEquals("disk full", FileErrors.reason(new IOException("disk full")));
    }
}
