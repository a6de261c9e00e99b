package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.StreamChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The outgoing side of a connection. Replies are built into one direct buffer under a lock, so
 * requests completed on different threads never interleave their bytes, and replies that become
 * ready together leave in one system call: the reader thread appends while it has buffered
 * requests to process and flushes before it blocks for more input. Large read payloads are not
 * copied: they go out with the pending replies in one gathering write. The buffer comes from the
 * pool when a reply is built and goes back when the connection waits idle ({@link #idle()}), so
 * that thousands of idle connections hold no reply buffers.
 */
final class ReplyWriter {
    private GatheringByteChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    /** Bytes a reply buffer holds: many small replies, or one 64 KiB read with its header. */
    static final int CAPACITY = 256 * 1024;

    /** What goes out through the reply buffer when sendfile finds the socket full. */
    private static final int COPIED_PIECE = 16 * 1024;

    private ByteBuffer out;
    private final ByteBuffer[] gather = new ByteBuffer[2];
    /**
     * The pending replies (index 0) and a large read's page views after them, gathered for one
     * write: grown to the largest read sent from pages, up to {@link #MAX_VIEWS} views.
     */
    private ByteBuffer[] views = new ByteBuffer[0];
    /** Views one gathering write takes at most: with the replies before them, the kernel's IOV_MAX. */
    static final int MAX_VIEWS = 1023;
    /** True while a write to the socket is under way: a client that stops reading keeps it true. */
    private volatile boolean writing;
    /** Reads queued into the reply buffer, done with its send ({@code fileReads=uring}); null until the first. */
    private UringReads uring;
    /** True while reads should go through io_uring: after {@link #startUring}, until the socket closes. */
    private boolean uringWanted;

    ReplyWriter(GatheringByteChannel channel) {
        this.channel = channel;
    }

    /** The reply buffer, taken from the pool if the writer has none now. Caller holds the lock. */
    private ByteBuffer out() {
        if (out == null) {
            out = BufferPool.SHARED.acquire(CAPACITY).clear();
        }
        return out;
    }

    /**
     * Gives the reply buffer back to the pool if nothing is pending in it: the connection is about
     * to wait for input. A request finishing meanwhile takes one again.
     */
    void idle() {
        lock.lock();
        try {
            if (out != null && out.position() == 0) {
                BufferPool.SHARED.release(out);
                out = null;
            }
            if (channel instanceof StreamChannel tls) {
                tls.releaseIdleWrites(); // no write is under way: they all hold the lock
            }
        } finally {
            lock.unlock();
        }
    }

    void lock() {
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    /** Bytes that fit in the buffer at most. */
    int capacity() {
        return CAPACITY;
    }

    /**
     * Returns the buffer with at least {@code n} bytes free, flushing what is pending if needed.
     * Caller holds the lock and writes at the buffer's position.
     */
    ByteBuffer reserve(int n) throws IOException {
        if (out().remaining() < n) {
            flushLocked();
        }
        return out;
    }

    /** Writes what is pending. Caller holds the lock. */
    void flushLocked() throws IOException {
        if (out == null || out.position() == 0) {
            return;
        }
        out.flip();
        writing = true;
        try {
            if (uring != null && uring.pending()) {
                out.position(uring.complete(out, out.limit()));
            }
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
        if (uring != null && uring.pending()) {
            uring.complete(out, 0);
        }
        ByteBuffer pending = out().flip();
        gather[0] = pending;
        gather[1] = payload;
        writing = true;
        try {
            while (pending.hasRemaining() || payload.hasRemaining()) {
                channel.write(gather);
            }
        } finally {
            writing = false;
            gather[1] = null;
            pending.clear();
        }
    }

    /**
     * The array a large read's page views go in, from index 1: room for {@code wanted} views, or
     * {@link #MAX_VIEWS}. Caller holds the lock until {@link #flushWithViewsLocked} or
     * {@link #forgetViews}.
     */
    ByteBuffer[] viewArray(int wanted) {
        int size = 1 + Math.min(wanted, MAX_VIEWS);
        if (views.length < size) {
            views = new ByteBuffer[size];
        }
        return views;
    }

    /**
     * Writes what is pending followed by the {@code count} views from index 1 of {@link
     * #viewArray}, in gathering writes, then lets the views go (a page trimmed meanwhile may then
     * be freed). Returns the views' bytes. Caller holds the lock.
     */
    long flushWithViewsLocked(int count) throws IOException {
        if (uring != null && uring.pending()) {
            uring.complete(out, 0);
        }
        ByteBuffer pending = out().flip();
        views[0] = pending;
        long bytes = 0;
        for (int i = 1; i <= count; i++) {
            bytes += views[i].remaining();
        }
        writing = true;
        try {
            int first = 0;
            while (first <= count) {
                channel.write(views, first, count + 1 - first);
                while (first <= count && !views[first].hasRemaining()) {
                    first++;
                }
            }
            return bytes;
        } finally {
            writing = false;
            forgetViews(count);
            pending.clear();
        }
    }

    /** Lets the {@code count} views from index 1 of {@link #viewArray} go, unsent. */
    void forgetViews(int count) {
        Arrays.fill(views, 0, count + 1, null);
    }

    /**
     * Writes what is pending, then {@code count} bytes of {@code file} from {@code position}
     * straight from the page cache to the socket (sendfile: no copy through this process), or
     * zeroes for what lies past the file's end if it shrank. Only for a writer whose channel is
     * the plain socket (no TLS). Caller holds the lock.
     */
    void flushWithFileLocked(FileChannel file, long position, long count) throws IOException {
        flushLocked();
        SocketChannel socket = (SocketChannel) channel;
        long at = position;
        long end = position + count;
        writing = true;
        try {
            while (at < end) {
                long n = file.transferTo(at, end - at, socket);
                if (n > 0) {
                    at += n;
                } else {
                    // Nothing sent: the socket is full (it may be non-blocking underneath, when a
                    // virtual thread used it), or the file ended. A plain write of a small piece
                    // waits for room as any reply does (Linux wakes it when half the queue has
                    // drained), then sendfile goes on.
                    at += writeCopied(file, at, (int) Math.min(end - at, COPIED_PIECE));
                }
            }
        } finally {
            writing = false;
        }
    }

    /** Writes up to {@code length} bytes of the file at {@code at} through the reply buffer (zeroes past its end). */
    private int writeCopied(FileChannel file, long at, int length) throws IOException {
        ByteBuffer b = out().clear().limit(length);
        try {
            while (b.hasRemaining()) {
                if (file.read(b, at + b.position()) < 0) {
                    while (b.hasRemaining()) {
                        b.put((byte) 0);
                    }
                }
            }
            b.flip();
            while (b.hasRemaining()) {
                channel.write(b);
            }
            return length;
        } finally {
            b.clear();
        }
    }

    /**
     * Reads through io_uring from now on where {@link #readFromFile} is used; false if the kernel
     * refuses io_uring or the channel is not the plain socket.
     */
    boolean startUring() {
        lock.lock();
        try {
            uringWanted = channel instanceof SocketChannel && UringReads.unavailable() == null;
            return uringWanted;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fills {@code length} bytes of the reply buffer at {@code position} from {@code file} at
     * {@code offset}, after {@link #startUring} succeeded: through io_uring, done with the
     * buffer's next flush (true), or now (false: no ring for this connection, the ring is full or
     * the file has no descriptor). Caller holds the lock and sends nothing of the range before the
     * flush.
     */
    boolean readFromFile(FileChannel file, int position, int length, long offset) throws IOException {
        if (uring == null && uringWanted) {
            uring = UringReads.open((SocketChannel) channel);
            uringWanted = uring != null;
        }
        if (uring == null) {
            UringReads.readNow(file, out(), position, length, offset);
            return false;
        }
        return uring.read(file, out(), position, length, offset);
    }

    /** Closes what io_uring holds (its ring, the descriptors): the connection's socket is closed. */
    void closeUring() {
        lock.lock();
        try {
            dropUringLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Closes the ring and its descriptors, if any, and asks for none again. */
    private void dropUringLocked() {
        uringWanted = false;
        if (uring != null) {
            uring.close();
            uring = null;
        }
    }

    /** What carries the replies, which decides how a large read may go out straight from a file. */
    enum Carrier {
        /** The plain socket: from the file by sendfile ({@link #flushWithFileLocked}) or from its mapping. */
        SOCKET,
        /**
         * A TLS session over streams: sealed from the file's mapping ({@link #flushWithPayloadLocked}),
         * which the session copies out with the JDK's buffer copies (a page gone under a shrunk file
         * fails that copy with an error, never a crash), never by handing its address to native code.
         */
        SESSION,
        /** Anything else: the bytes are read into a buffer first. */
        OTHER
    }

    Carrier carrier() {
        lock.lock();
        try {
            return channel instanceof SocketChannel
                    ? Carrier.SOCKET
                    : channel instanceof StreamChannel ? Carrier.SESSION : Carrier.OTHER;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of reply buffer held now: none while the connection waits idle. */
    long heldBytes() {
        lock.lock();
        try {
            return out == null ? 0 : out.capacity();
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            BufferPool.SHARED.release(out);
            out = null;
            dropUringLocked();
            if (channel instanceof StreamChannel tls) {
                tls.releaseIdleWrites();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Flushes pending replies if the lock is free; else leaves them to the reader's next flush
     * (a mid-burst flush must not make the reader wait on, or slow, a thread sending replies).
     */
    void flushIfFree() throws IOException {
        if (!lock.tryLock()) {
            return;
        }
        try {
            flushLocked();
        } finally {
            lock.unlock();
        }
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
