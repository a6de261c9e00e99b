package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fault journal the server cannot write stops it from starting, with the reason in words. */
class JournalFileTest {
    @Test
    void aJournalThatCannotBeWrittenIsRefusedSayingWhy(@TempDir Path dir) {
        Path journal = dir.resolve("missing").resolve("faults.jsonl");
        IOException e = assertThrows(
                IOException.class,
                () -> FaultdiskServer.builder()
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .journal(journal)
                        .start());
        assertEquals("cannot write the fault journal " + journal + ": no such file or directory", e.getMessage());
    }
}
