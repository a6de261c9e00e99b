package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.ReaderSpin;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channels;
import java.nio.channels.ScatteringByteChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Function;

/**
 * A connection's buffered input. Requests and payloads are decoded from a pooled 256 KiB buffer
 * filled from the socket (or TLS over it), so that a burst of request headers costs one read.
 * While the reader waits idle the big buffer goes back to the pool and a {@value #IDLE}-byte heap
 * buffer waits instead: ten thousand idle connections then hold little. The reader thread alone
 * uses it, but for {@link #heldBytes}.
 */
final class ConnectionInput {
    static final int CAPACITY = 256 * 1024;
    /**
     * What an idle connection reads into: room for a burst of 18 request headers; what follows
     * is read into the big buffer. Small because every idle connection keeps one (4 KiB was 40
     * of the 410 MiB that 10,000 idle TLS connections cost).
     */
    static final int IDLE = 512;

    /** Reads what arrives into a small buffer: a count, -1 at end of stream, or a {@link ReaderThreads} code. */
    @FunctionalInterface
    interface IdleRead {
        int read(ByteBuffer small) throws IOException;
    }

    /** What requests are read from: the socket, or TLS over it after STARTTLS. */
    private ByteChannel io;
    /** The plain socket's input, asked only how many bytes wait in it (FIONREAD); null for other channels. */
    private final InputStream socketWaiting;
    /** How the reader looks for input before it blocks, for requests and inside payloads alike. */
    private final ReaderSpin spin;
    /** The TLS channel {@link #io} is once secured (the socket's bytes are then its alone); null before. */
    private volatile StreamChannel tls;
    /** Buffered input; swapped for a pooled one by {@link #awaitIdle}. */
    private ByteBuffer in = BufferPool.SHARED.acquire(CAPACITY).limit(0);
    /** The small heap buffer the reader waits on while idle, kept for the connection's life. */
    private ByteBuffer idle;
    /** Input buffer bytes held, written by the reader at each swap. */
    private volatile int held = CAPACITY;

    ConnectionInput(ByteChannel io) {
        this(io, ReaderSpin::new);
    }

    /** With the reader's look made by {@code spin} from the socket's input (tests set its busy window). */
    ConnectionInput(ByteChannel io, Function<InputStream, ReaderSpin> spin) {
        this.io = io;
        this.socketWaiting = io instanceof SocketChannel socket ? Channels.newInputStream(socket) : null;
        this.spin = spin.apply(socketWaiting); // one stream over the channel asks FIONREAD for both
    }

    /**
     * The reader's look for input before it blocks: one for its waits for requests and for the
     * pieces of a payload, so that a long wait in either stops the look in both until the
     * connection is busy again.
     */
    ReaderSpin spin() {
        return spin;
    }

    /** The buffer, positioned at the next unread byte, limited at the last one read. */
    ByteBuffer buffer() {
        return in;
    }

    /** Ensures at least {@code n} unread bytes are buffered ({@code n} at most the capacity). */
    void require(int n) throws IOException {
        while (in.remaining() < n) {
            if (fill(n) < 0) {
                throw new EOFException();
            }
        }
    }

    /**
     * Waits until {@code n} unread bytes have arrived ({@code n} at most the capacity): buffered,
     * or, before TLS, waiting in the socket, where they stay. A large payload is then read from the
     * socket straight into the buffer it goes to ({@link #readInto}), not into this buffer and
     * copied from it (a fifth of a MiB copied a 1 MiB write, about 4% of the server's CPU over a
     * Unix socket: docs/BENCHMARKS.md).
     */
    void awaitArrived(int n) throws IOException {
        if (!arrived(n)) {
            require(n);
        }
    }

    /** Whether {@code n} bytes have arrived, buffered or (plain sockets) waiting in the socket; reads nothing. */
    boolean arrived(int n) throws IOException {
        return in.remaining() >= n
                || (tls == null && socketWaiting != null && socketWaiting.available() >= n - in.remaining());
    }

    /**
     * Reads more input into the buffer, compacting first when the free tail is shorter than
     * {@code want} bytes. Returns the count read, or -1 at end of stream.
     */
    int fill(int want) throws IOException {
        if (in.capacity() - in.limit() < want - in.remaining() || in.limit() == in.capacity()) {
            in.compact().flip();
        }
        int start = in.position();
        in.position(in.limit()).limit(in.capacity());
        int n;
        try {
            n = io.read(in);
        } finally {
            in.limit(in.position()).position(start);
        }
        return n;
    }

    /** Discards {@code n} bytes of input (a payload that will not be used). */
    void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            if (!in.hasRemaining() && fill(1) < 0) {
                throw new EOFException();
            }
            int step = (int) Math.min(left, in.remaining());
            in.position(in.position() + step);
            left -= step;
        }
    }

    /** Moves the next {@code dst.remaining()} input bytes into {@code dst}, reading the socket directly. */
    void readInto(ByteBuffer dst) throws IOException {
        readInto(dst, false);
    }

    /**
     * As {@link #readInto(ByteBuffer)}; with {@code look}, before each read of the plain socket that
     * may block, looks for the rest of the payload first while the connection is busy ({@link
     * #spin()}; a piece that came late stops the look, as a late request does): a reader blocked
     * between the pieces a Unix socket brings a payload in (about 100 KiB each) is woken by the
     * client's next send, in the client's system call. For a connection writing alone: where
     * several write at once, a reader that looks takes the CPU the others need (nbdcopy's four
     * connections of 256 KiB writes ran at 0.90 with every payload read looking; docs/BENCHMARKS.md,
     * "This round (after 5a784b2)").
     */
    void readInto(ByteBuffer dst, boolean look) throws IOException {
        takeBuffered(dst);
        boolean looks = look && tls == null && socketWaiting != null;
        while (dst.hasRemaining()) {
            if ((looks ? spin.await(() -> io.read(dst)) : io.read(dst)) < 0) {
                throw new EOFException();
            }
        }
    }

    /**
     * Moves the next input bytes into {@code dsts} in order until every one is full: what is
     * buffered, then from a plain socket by scattering reads into all that are left (pages lying
     * apart take a system call between them, not one each), else one buffer at a time. With
     * {@code look}, as {@link #readInto(ByteBuffer, boolean)}.
     */
    void readInto(ByteBuffer[] dsts, boolean look) throws IOException {
        int i = 0;
        while (in.hasRemaining() && i < dsts.length) {
            takeBuffered(dsts[i]);
            if (!dsts[i].hasRemaining()) {
                i++;
            }
        }
        if (tls == null && io instanceof ScatteringByteChannel socket) {
            boolean looks = look && socketWaiting != null;
            while (i < dsts.length) {
                int from = i;
                if (!dsts[i].hasRemaining()) {
                    i++;
                } else if ((looks
                                ? spin.await(
                                        () -> (int) socket.read(dsts, from, dsts.length - from)) // a payload: <= 32 MiB
                                : socket.read(dsts, i, dsts.length - i))
                        < 0) {
                    throw new EOFException();
                }
            }
            return;
        }
        for (; i < dsts.length; i++) {
            readInto(dsts[i], look);
        }
    }

    /** Moves what is buffered, as much as {@code dst} takes, into it. */
    private void takeBuffered(ByteBuffer dst) {
        int n = Math.min(in.remaining(), dst.remaining());
        dst.put(dst.position(), in, in.position(), n);
        dst.position(dst.position() + n);
        in.position(in.position() + n);
    }

    /**
     * Waits for input with the buffer back in the pool (call with none left unread) and the small
     * one waiting instead, through {@code read}; then takes a pooled buffer again, holding what
     * arrived. Returns what {@code read} returned.
     */
    int awaitIdle(IdleRead read) throws IOException {
        BufferPool.SHARED.release(in);
        in = null;
        if (idle == null) {
            idle = ByteBuffer.allocate(IDLE);
        }
        idle.clear();
        held = IDLE;
        try {
            return read.read(idle);
        } finally {
            in = BufferPool.SHARED.acquire(CAPACITY).clear();
            in.put(idle.flip()).flip();
            held = CAPACITY + IDLE;
        }
    }

    /** Input buffer bytes held now (a snapshot, read off the reader thread). */
    int heldBytes() {
        return held;
    }

    /** Takes out the bytes buffered so far: after STARTTLS, the start of the TLS handshake the client sent early. */
    byte[] takeBuffered() {
        byte[] early = new byte[in.remaining()];
        in.get(early);
        in.clear().limit(0);
        return early;
    }

    /** From now on input comes through {@code tls}. */
    void secure(StreamChannel tls) {
        io = tls;
        this.tls = tls;
    }

    /** True once input comes through TLS. */
    boolean secured() {
        return tls != null;
    }

    /** The TLS session input comes through, or null before STARTTLS (or without TLS). */
    StreamChannel tlsChannel() {
        return tls;
    }

    /** True if TLS input is buffered or waits on the socket: no idle wait is needed (reader thread). */
    boolean tlsInputWaiting() {
        return tls.inputWaiting();
    }

    /** Reads through TLS into {@code small} while the connection waits idle (see {@link StreamChannel#readIdle}). */
    int readSecuredIdle(ByteBuffer small) throws IOException {
        return tls.readIdle(small);
    }

    /** Bytes of arrays the TLS channel holds now, lent for reads and writes (any thread). */
    long tlsHeldBytes() {
        StreamChannel t = tls;
        return t == null ? 0 : t.heldBytes();
    }

    /** Returns the buffers to the pool; the connection reads no more. */
    void release() {
        if (tls != null) {
            tls.releaseIdleReads(); // else ten thousand clients leaving at once leave as many arrays to the collector
        }
        BufferPool.SHARED.release(in);
        BufferPool.SHARED.release(idle);
        in = null;
        idle = null;
    }
}
