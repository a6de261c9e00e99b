package dev.faultdisk.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ScheduledFuture;

/**
 * The end of a connection the client ended (NBD_CMD_DISC, or the handshake ended by its
 * NBD_OPT_ABORT). Over TLS the server first shuts the session down with close_notify, as the NBD
 * spec asks at DISC. The client may still send what ends its own side: over TLS its close_notify
 * right after the DISC, as libnbd does. A socket closed with that input unread is reset (TCP
 * sends RST; over a Unix socket the peer gets ECONNRESET or EPIPE), and the client sees its clean
 * shutdown fail: libnbd's {@code nbd_shutdown} said "server closed socket unexpectedly" for a
 * few in 10,000 TLS connections (docs/BENCHMARKS.md, "The close after a client's DISC"). So the
 * server ends its output and reads (and drops) what still comes until the client's end of
 * stream, then closes; all of it, the close_notify's write included (a client that reads nothing
 * could leave it blocked), within {@code faultdisk.nbd.lingerMillis} (default 1000; 0: none of
 * it, the socket closed at once) and {@value #MAX_BYTES} bytes read. nbdkit waits the same way
 * (gnutls_bye with SHUT_RDWR).
 */
final class LingeringClose {
    static final long MILLIS = Long.getLong("faultdisk.nbd.lingerMillis", 1000);
    /** What a client may still send once it said it is done, at most; beyond it the close resets. */
    static final int MAX_BYTES = 64 << 10;

    private LingeringClose() {}

    /**
     * Shuts the TLS session down ({@code sessionEnd}, null if none), ends the server's output on
     * {@code channel} and reads until the client's end of stream or the limits; at the time limit
     * {@code cut} runs on the server's timer (it closes the channel, which ends a write or read
     * under way here). Returns when the wait is over; the caller closes.
     */
    static void awaitClientEnd(SocketChannel channel, Closeable sessionEnd, NbdServer server, Runnable cut) {
        if (MILLIS <= 0) {
            return;
        }
        ScheduledFuture<?> timeLimit = server.schedule(cut, MILLIS);
        if (timeLimit == null) {
            return; // the server is shutting down: no wait
        }
        try {
            if (sessionEnd != null) {
                sessionEnd.close();
            }
            channel.shutdownOutput();
            ByteBuffer dropped = ByteBuffer.allocate(512);
            for (int total = 0; total < MAX_BYTES; ) {
                int n = channel.read(dropped.clear());
                if (n < 0) {
                    return;
                }
                total += n;
            }
        } catch (IOException e) {
            // cut at the time limit, or reset by the client: nothing more to wait for
        } finally {
            timeLimit.cancel(false);
        }
    }
}
