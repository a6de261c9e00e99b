package dev.faultdisk.wire;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    /** A tree goes whole, its own directory too; a link inside goes, what it points at stays. */
    @Test
    void aTreeIsDeletedWholeWithoutFollowingLinks(@TempDir Path dir) throws Exception {
        Path kept = Files.writeString(dir.resolve("kept"), "outside");
        Path tree = Files.createDirectories(dir.resolve("tree/a/b"));
        Files.writeString(tree.resolve("file"), "x");
        Files.writeString(dir.resolve("tree/a/other"), "y");
        Files.createSymbolicLink(dir.resolve("tree/link"), dir);
        FileTrees.delete(dir.resolve("tree"));
        assertFalse(Files.exists(dir.resolve("tree")));
        assertTrue(Files.exists(kept), "the link's target is left alone");
    }

    @Test
    void aMissingDirectoryIsAnError(@TempDir Path dir) {
        assertThrows(NoSuchFileException.class, () -> FileTrees.delete(dir.resolve("none")));
    }
}
