package dev.faultdisk.nbd;

import java.nio.channels.SocketChannel;

/**
 * A connection's {@link ReaderPoll} while its reader is on a platform thread: made when the reader
 * first asks for it, let go when the reader moves to a virtual thread or ends (else each
 * connection that was once busy would keep a duplicate descriptor for its life), and woken by
 * the thread that closes the connection.
 */
final class ReaderPollHolder {
    private final SocketChannel channel;
    /** Null before the reader asks, after it lets go, or where there can be none. */
    private volatile ReaderPoll poll;
    /** Whether the reader asked since it last let go (reader only): no second duplicate after a failed one. */
    private boolean tried;

    ReaderPollHolder(SocketChannel channel) {
        this.channel = channel;
    }

    /** The poll, made on the first call (reader only); null if there can be none. */
    ReaderPoll get() {
        if (!tried) {
            tried = true;
            poll = ReaderPoll.of(channel);
        }
        return poll;
    }

    /** The reader leaves its platform thread or the connection: the duplicate goes (reader only). */
    void release() {
        ReaderPoll p = poll;
        poll = null;
        tried = false;
        if (p != null) {
            p.close();
        }
    }

    /** The connection is closing (any thread): a reader waiting in the poll stops waiting. */
    void wake() {
        ReaderPoll p = poll;
        if (p != null) {
            p.shutdown();
        }
    }
}
