package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates that are not there are said so, naming the file the server looked for. */
class TlsCredentialsTest {
    @Test
    void aDirectoryWithoutCertificatesIsRefusedNamingTheMissingFile(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> TlsCredentials.server(dir, false));
        assertEquals(
                "TLS credentials: cannot read " + dir.resolve("ca-cert.pem") + ": no such file or directory",
                e.getMessage());
    }
}
