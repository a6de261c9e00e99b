package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PSK file that cannot be read is refused saying which and why. */
class PskTlsTest {
    @Test
    void aMissingKeyFileIsRefusedSayingWhy(@TempDir Path dir) {
        Path file = dir.resolve("keys.psk");
        IOException e = assertThrows(IOException.class, () -> PskTls.load(file));
        assertEquals("cannot read the PSK file " + file + ": no such file or directory", e.getMessage());
    }
}
