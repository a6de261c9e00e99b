package dev.faultdisk.wire.net;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;

/**
 * A socket's streams as a channel, so that code written for {@code SocketChannel} (the plaintext
 * fast path) also runs over a TLS socket. Reads and writes may come from different threads, as
 * on a socket; writes from several threads must be serialised by the caller.
 */
public final class StreamChannel implements ByteChannel, GatheringByteChannel {
    /**
     * Application bytes the JDK puts in one TLS 1.3 record: 16 KiB less the content type byte and
     * the 16 bytes of padding it adds. Writes of a multiple of it fill whole records; a write of
     * 16 KiB would go out as two records (16,367 and 17 bytes), each encrypted and sent alone.
     */
    static final int TLS13_JDK_FRAGMENT = 16 * 1024 - 1 - 16;

    private final Closeable socket;
    private final InputStream in;
    private final OutputStream out;
    /** Read through into a direct buffer: lent while the connection is busy. */
    private static final ArrayPool READS = new ArrayPool(16 * 1024, 256);
    /** Two records a write, lent while the connection is busy. */
    private static final ArrayPool WRITES = new ArrayPool(2 * TLS13_JDK_FRAGMENT, 256);

    private byte[] readBuffer;
    private byte[] writeBuffer;
    /** Whether each is lent now, for {@link #heldBytes} off the reader's and writers' threads. */
    private volatile boolean readLent;

    private volatile boolean writeLent;
    /** The socket's input under the TLS layer, when it is ours: reads then take every record already here. */
    private final BurstInput raw;

    /** Ends the layer's output and leaves the socket open (TLS: sends close_notify); null: nothing to end. */
    private Closeable outputEnd;

    private volatile boolean open = true;
    /** The end of the stream was read ahead (reader thread only). */
    private boolean ended;
    /** The TLS version and cipher suite agreed, for logs and reports; null if not TLS or not known. */
    private final String session;

    public StreamChannel(Socket socket) throws IOException {
        this(socket.getInputStream(), socket.getOutputStream(), socket, null, null);
    }

    /** Streams of a protocol layered over a socket (e.g. a TLS library's); closing closes {@code socket}. */
    public StreamChannel(InputStream in, OutputStream out, Closeable socket) {
        this(in, out, socket, null, null);
    }

    /** The same, with the TLS session it carries named, as {@code "TLSv1.2 TLS_..."}. */
    public StreamChannel(InputStream in, OutputStream out, Closeable socket, String session) {
        this(in, out, socket, null, session);
    }

    StreamChannel(InputStream in, OutputStream out, Closeable socket, BurstInput raw, String session) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.raw = raw;
        this.session = session;
    }

    /**
     * Gives what {@link #endOutput} runs: the layer's own end of output (TLS's close_notify), the
     * socket left open. Call once, before the channel is shared.
     */
    public StreamChannel endingOutputWith(Closeable end) {
        this.outputEnd = end;
        return this;
    }

    /**
     * Ends the layer's output without closing the socket: over TLS, sends close_notify (the NBD
     * spec's "shut down TLS" at NBD_CMD_DISC); nothing for a layer that has no end of its own.
     * Call with no write under way.
     */
    public void endOutput() throws IOException {
        if (outputEnd != null) {
            outputEnd.close();
        }
    }

    /** The TLS version and cipher suite agreed ({@code "TLSv1.3 TLS_AES_256_GCM_SHA384"}), or null. */
    public String session() {
        return session;
    }

    /**
     * Reads what one record holds, then, while whole records are already buffered beneath, what
     * they hold too, without waiting for more: a burst of small requests (one record each) is
     * then read, and answered, together.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (ended) {
            return -1;
        }
        int n = readOnce(dst);
        if (raw == null || n <= 0) {
            return n;
        }
        while (dst.hasRemaining() && raw.wholeRecordBuffered()) {
            int more;
            raw.probing(true);
            try {
                more = readOnce(dst);
            } catch (SocketTimeoutException e) {
                break; // a record the TLS layer kept for itself, and the next is not here yet
            } finally {
                raw.probing(false);
            }
            if (more < 0) {
                // The peer's close_notify, read with its last requests: the next read reports the
                // end without asking the TLS layer again (which may have closed the socket since).
                ended = true;
                break;
            }
            if (more == 0) {
                break;
            }
            n += more;
        }
        return n;
    }

    /**
     * Reads into {@code small} (a heap buffer) while the connection waits idle, having given back
     * the buffers the channel and the stream under it lent for reads: an idle TLS connection then
     * holds what the TLS layer itself keeps. Reader thread only.
     */
    public int readIdle(ByteBuffer small) throws IOException {
        releaseIdleReads();
        return read(small);
    }

    /**
     * Gives back the buffers lent for reads, the channel's and the stream's under it (as far as
     * nothing read is left in them): before an idle wait, or when the reader is done. Reader
     * thread only.
     */
    public void releaseIdleReads() {
        if (in instanceof IdleBuffers stream && !stream.releaseIdle()) {
            return; // input is buffered still
        }
        READS.give(readBuffer);
        readBuffer = null;
        readLent = false;
    }

    /**
     * True if input is buffered in the TLS layer or waits on the socket, as far as the stream
     * beneath can tell (reader thread): the connection is busy and need not wait idle.
     */
    public boolean inputWaiting() {
        return in instanceof IdleBuffers stream && stream.inputWaiting();
    }

    /**
     * Gives back the buffers lent for writes, the channel's and the stream's under it: call with
     * no write under way (the writers' own serialisation ensures it).
     */
    public void releaseIdleWrites() {
        WRITES.give(writeBuffer);
        writeBuffer = null;
        writeLent = false;
        if (out instanceof IdleBuffers stream) {
            stream.releaseIdle();
        }
    }

    /**
     * Bytes of lent arrays the channel and the streams under it hold now (a snapshot, read from
     * any thread): none but what the TLS layer keeps of its own while the connection waits idle.
     */
    public long heldBytes() {
        long held = (readLent ? (long) READS.length() : 0L) + (writeLent ? WRITES.length() : 0);
        if (in instanceof IdleBuffers stream) {
            held += stream.heldBytes();
        }
        if (out instanceof IdleBuffers stream) {
            held += stream.heldBytes();
        }
        return held;
    }

    private int readOnce(ByteBuffer dst) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (in instanceof EngineTls.Input engine) {
            return engine.read(dst); // records opened straight into dst, heap or direct
        }
        int n;
        if (dst.hasArray()) {
            n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
        } else {
            byte[] through = readBuffer();
            n = in.read(through, 0, Math.min(through.length, dst.remaining()));
            if (n > 0) {
                dst.put(through, 0, n);
            }
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        if (out instanceof GatheringOutput gathering) {
            return (int) gathering.write(src); // sealed straight from src
        }
        int total = src.remaining();
        if (src.hasArray()) {
            out.write(src.array(), src.arrayOffset() + src.position(), total);
            src.position(src.limit());
        } else {
            byte[] through = writeBuffer();
            while (src.hasRemaining()) {
                int n = Math.min(through.length, src.remaining());
                src.get(through, 0, n);
                out.write(through, 0, n);
            }
        }
        out.flush();
        return total;
    }

    /**
     * Writes the buffers' bytes in pieces gathered across buffers: a TLS layer makes records of
     * each write (and sends them at once), so a reply's header and a small payload go out as one
     * record in one send instead of two.
     */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        if (out instanceof GatheringOutput gathering) {
            return gathering.write(srcs, offset, length); // sealed straight from the buffers, gathered
        }
        byte[] through = writeBuffer();
        long total = 0;
        int filled = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer src = srcs[i];
            total += src.remaining();
            while (src.hasRemaining()) {
                int n = Math.min(through.length - filled, src.remaining());
                src.get(through, filled, n);
                filled += n;
                if (filled == through.length) {
                    out.write(through, 0, filled);
                    filled = 0;
                }
            }
        }
        if (filled > 0) {
            out.write(through, 0, filled);
        }
        out.flush();
        return total;
    }

    private byte[] readBuffer() {
        if (readBuffer == null) {
            readBuffer = READS.take();
            readLent = true;
        }
        return readBuffer;
    }

    private byte[] writeBuffer() {
        if (writeBuffer == null) {
            writeBuffer = WRITES.take();
            writeLent = true;
        }
        return writeBuffer;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() throws IOException {
        open = false;
        socket.close();
    }
}
