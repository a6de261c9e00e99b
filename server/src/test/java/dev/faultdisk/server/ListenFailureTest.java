package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A socket the server cannot listen on is reported as the NBD or the QMP socket's, so the user
 * knows which option to change: a port taken, or a Unix socket's directory missing.
 */
class ListenFailureTest {

    @Test
    void aTakenPortSaysWhetherItIsTheNbdOrTheQmpSocket() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress busy = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            InetSocketAddress free = new InetSocketAddress("127.0.0.1", 0);

            ListenException nbd = assertThrows(
                    ListenException.class,
                    () -> FaultdiskServer.builder().nbd(busy).qmp(free).start());
            assertEquals(ListenException.Socket.NBD, nbd.socket());
            assertTrue(nbd.addressInUse());
            assertEquals(
                    "cannot listen for NBD on 127.0.0.1:" + busy.getPort() + ": Address already in use",
                    nbd.getMessage());

            ListenException qmp = assertThrows(
                    ListenException.class,
                    () -> FaultdiskServer.builder()
                            .nbd(free)
                            .qmp(free)
                            .qmp(busy)
                            .start());
            assertEquals(ListenException.Socket.QMP, qmp.socket());
            assertEquals(
                    "cannot listen for QMP on 127.0.0.1:" + busy.getPort() + ": Address already in use",
                    qmp.getMessage());
        }
    }

    @Test
    void aUnixSocketInAMissingDirectorySaysWhichSocketAndWhy(@TempDir Path dir) {
        Path missing = dir.resolve("missing");
        UnixDomainSocketAddress socket = UnixDomainSocketAddress.of(missing.resolve("qmp.sock"));
        ListenException e = assertThrows(
                ListenException.class,
                () -> FaultdiskServer.builder()
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(socket)
                        .start());
        assertEquals(ListenException.Socket.QMP, e.socket());
        assertFalse(e.addressInUse());
        assertEquals(
                "cannot listen for QMP on unix:" + socket.getPath() + ": " + missing
                        + ": no such directory to make the socket qmp.sock in",
                e.getMessage());
        assertFalse(Files.exists(missing), "nothing made on the way");
    }
}
