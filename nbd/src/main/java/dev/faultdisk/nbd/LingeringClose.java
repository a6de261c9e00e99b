package dev.faultdisk.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ScheduledFuture;

/**
 * The end of a connection the client ended (NBD_CMD_DISC, or the handshake ended by its
 * NBD_OPT_ABORT). The client may still send what ends its own side: over TLS a close_notify
 * right after the DISC, as libnbd does. A socket closed with that input unread is reset (TCP
 * sends RST; over a Unix socket the peer gets ECONNRESET), and the client sees its clean shutdown
 * fail: libnbd's {@code nbd_shutdown} said "server closed socket unexpectedly" for 2 of 8,000 TLS
 * connections (docs/BENCHMARKS.md, "Lingering close"). So the server ends its output first and
 * reads (and drops) what still comes until the client's end of stream, for at most {@code
 * faultdisk.nbd.lingerMillis} (default 1000; 0: no wait) and {@value #MAX_BYTES} bytes, then
 * closes. nbdkit waits the same way (gnutls_bye with SHUT_RDWR).
 */
final class LingeringClose {
    static final long MILLIS = Long.getLong("faultdisk.nbd.lingerMillis", 1000);
    /** What a client may still send once it said it is done, at most; beyond it the close resets. */
    static final int MAX_BYTES = 64 << 10;

    private LingeringClose() {}

    /**
     * Ends the server's output on {@code channel} and reads until the client's end of stream or
     * the limits; at the time limit {@code cut} runs on the server's timer (it closes the
     * channel, which ends the read here). Returns when the wait is over; the caller closes.
     */
    static void awaitClientEnd(SocketChannel channel, NbdServer server, Runnable cut) {
        if (MILLIS <= 0) {
            return;
        }
        ScheduledFuture<?> timeLimit = server.schedule(cut, MILLIS);
        if (timeLimit == null) {
            return; // the server is shutting down: no wait
        }
        try {
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
