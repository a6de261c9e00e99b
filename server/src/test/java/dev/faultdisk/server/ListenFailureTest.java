package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** A port already taken is reported as the NBD or the QMP socket's, so the user knows which option to change. */
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
}
