package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS connection (with certificates) from this machine's loopback gets a small fixed send
 * buffer ({@link Connection#TLS_LOOPBACK_SEND_BUFFER}), and large reads through it still arrive
 * whole.
 */
class TlsLoopbackSendBufferTest {
    @Test
    void aLoopbackTlsConnectionHasTheSmallSendBufferAndLargeReadsArriveWhole(@TempDir Path dir) throws Exception {
        assumeTrue(Connection.TLS_LOOPBACK_SEND_BUFFER > 0, "-Dfaultdisk.nbd.tlsLoopbackSendBuffer=0 turns it off");
        try (TlsLocalServer server = new TlsLocalServer("x509", dir, "8M");
                RawNbdClient client = server.open()) {
            List<Connection> open = server.server().openConnections();
            assertEquals(1, open.size());
            assertEquals(Connection.TLS_LOOPBACK_SEND_BUFFER, open.getFirst().sendBufferBytes());
            byte[] data = new byte[4 << 20];
            new Random(11).nextBytes(data);
            client.write(0, data);
            assertArrayEquals(data, client.read(0, data.length), "4 MiB read back through the small buffer");
        }
    }
}
