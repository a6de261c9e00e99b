package dev.faultdisk.wire.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.history.HistoryEntry.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The history file format: a torn or corrupt tail ends the entries; what precedes it is intact. */
class HistoryReaderTest {

    private static Path written(Path dir, int writes) throws IOException {
        Path p = dir.resolve("h");
        try (HistoryWriter w = HistoryWriter.create(p, "disk", "base", 1 << 20, 512, 0, 1 << 30)) {
            for (int i = 0; i < writes; i++) {
                w.change(Kind.WRITE, i * 512L, 512, false, 1, i, i + 1, ByteBuffer.wrap(new byte[512]));
            }
        }
        return p;
    }

    @Test
    void aCutTailEndsTheEntriesThere(@TempDir Path dir) throws IOException {
        Path p = written(dir, 3);
        long full = Files.size(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(full - 100); // END and part of the third write
        }
        try (HistoryReader r = HistoryReader.open(p)) {
            assertEquals(2, r.entries().size());
            assertTrue(r.tornTail());
            assertFalse(r.complete());
        }
    }

    @Test
    void aFlippedByteEndsTheEntriesAtItsEntry(@TempDir Path dir) throws IOException {
        Path p = written(dir, 3);
        long second = HistoryFormat.FILE_HEADER + (HistoryFormat.ENTRY_HEADER + 512L) + HistoryFormat.ENTRY_HEADER + 7;
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), second);
        }
        try (HistoryReader r = HistoryReader.open(p)) {
            assertEquals(1, r.entries().size());
            assertTrue(r.tornTail());
        }
    }

    @Test
    void anotherFileIsRefused(@TempDir Path dir) throws IOException {
        Path p = Files.write(dir.resolve("x"), new byte[600]);
        IOException e = assertThrows(IOException.class, () -> HistoryReader.open(p));
        assertTrue(e.getMessage().contains("not a faultdisk history"), e.getMessage());
    }
}
