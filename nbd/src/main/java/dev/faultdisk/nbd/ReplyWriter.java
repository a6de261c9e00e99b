package dev.faultdisk.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The outgoing side of a connection. Replies are built into one direct buffer under a lock, so
 * requests completed on different threads never interleave their bytes, and replies that become
 * ready together leave in one system call: the reader thread appends while it has buffered
 * requests to process and flushes before it blocks for more input. Large read payloads are not
 * copied: they go out with the pending replies in one gathering write.
 */
final class ReplyWriter {
    private GatheringByteChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer out;
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private final ByteBuffer view;
    /** True while a write to the socket is under way: a client that stops reading keeps it true. */
    private volatile boolean writing;

    /** Builds replies in {@code buffer}, which it owns until {@link #release()}. */
    ReplyWriter(GatheringByteChannel channel, ByteBuffer buffer) {
        this.channel = channel;
        this.out = buffer;
        this.view = out.duplicate();
    }

    /**
     * A reused view of {@code length} bytes of the buffer at {@code position}, for reading data
     * straight into a reply. Caller holds the lock; valid until the lock is released.
     */
    ByteBuffer view(int position, int length) {
        view.clear();
        return view.limit(position + length).position(position);
    }

    void lock() {
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    /** Bytes that fit in the buffer at most. */
    int capacity() {
        return out.capacity();
    }

    /**
     * Returns the buffer with at least {@code n} bytes free, flushing what is pending if needed.
     * Caller holds the lock and writes at the buffer's position.
     */
    ByteBuffer reserve(int n) throws IOException {
        if (out.remaining() < n) {
            flushLocked();
        }
        return out;
    }

    /** Writes what is pending. Caller holds the lock. */
    void flushLocked() throws IOException {
        if (out.position() == 0) {
            return;
        }
        out.flip();
        writing = true;
        try {
            while (out.hasRemaining()) {
                channel.write(out);
            }
        } finally {
            writing = false;
            out.clear();
        }
    }

    /** Writes what is pending followed by {@code payload}, in one gathering write. Caller holds the lock. */
    void flushWithPayloadLocked(ByteBuffer payload) throws IOException {
        out.flip();
        gather[0] = out;
        gather[1] = payload;
        writing = true;
        try {
            while (out.hasRemaining() || payload.hasRemaining()) {
                channel.write(gather);
            }
        } finally {
            writing = false;
            gather[1] = null;
            out.clear();
        }
    }

    /** Writes go to {@code secure} from now on (after STARTTLS). Caller is the only writer at this point. */
    void switchTo(GatheringByteChannel secure) {
        lock.lock();
        try {
            channel = secure;
        } finally {
            lock.unlock();
        }
    }

    /** True while a write to the socket is under way. */
    boolean writing() {
        return writing;
    }

    /** Gives the buffer back to the pool; the writer is not used afterwards. */
    void release() {
        BufferPool.SHARED.release(out);
    }

    /** Flushes pending replies, taking the lock. */
    void flush() throws IOException {
        lock.lock();
        try {
            flushLocked();
        } finally {
            lock.unlock();
        }
    }
}
