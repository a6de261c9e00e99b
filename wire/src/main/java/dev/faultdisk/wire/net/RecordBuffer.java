package dev.faultdisk.wire.net;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * TLS records as a server's reader takes them off the socket: in bursts (one system call for
 * whatever has arrived, often many records) into a buffer lent while the connection is busy,
 * where the TLS layers would read a record's header and then its body, two calls a record. An
 * idle connection waits on a 1 KiB array and takes a buffer for what comes. A read timeout keeps
 * what was read of a record. The connection's reader alone uses it.
 */
public final class RecordBuffer {
    /** The largest record TLS 1.2 allows: the header, 2^14 bytes and 2048 of expansion. */
    public static final int MAX_RECORD = TlsRecordHeader.SIZE + TlsRecordHeader.MAX_PLAINTEXT + 2048;

    private static final ArrayPool BUFFERS = new ArrayPool(4 * MAX_RECORD, 128);

    /** A record whose header announces more than {@link #MAX_RECORD} bytes (RFC 5246 record_overflow). */
    public static final class TooLong extends IOException {
        private static final long serialVersionUID = 1L;

        TooLong(int length) {
            super("a TLS record of " + length + " bytes, more than TLS allows");
        }
    }

    private final InputStream socket;
    /** Looks for the rest of a record before a read that would block, while the reader is busy. */
    private final ReaderSpin spin;
    /** The read {@link #spin} waits with: what fits after {@link #end}. */
    private final ReaderSpin.Read readMore;

    private final byte[] first = new byte[1024];
    private byte[] buf;
    private int start;
    private int end;
    /** Whether {@link #buf} is lent now, for {@link #heldBytes} off the reader thread. */
    private volatile boolean lent;

    /** {@code early}: bytes read from the socket already (the start of the handshake, after STARTTLS). */
    public RecordBuffer(InputStream socket, byte[] early) {
        this(socket, early, new ReaderSpin(socket));
    }

    /** As above, looking for input before a read that would block as {@code spin} (of {@code socket}) says. */
    public RecordBuffer(InputStream socket, byte[] early, ReaderSpin spin) {
        this.socket = socket;
        this.spin = spin;
        this.readMore = () -> socket.read(buf, end, buf.length - end);
        if (early.length > 0) {
            take();
            System.arraycopy(early, 0, buf, 0, early.length);
            end = early.length;
        }
    }

    /** True if a whole record is buffered at {@link #start()}. */
    public boolean wholeRecord() {
        return buf != null && TlsRecordHeader.wholeRecordIn(buf, start, end);
    }

    /**
     * Reads until a whole record is buffered; false at the end of the stream between records. A
     * timeout leaves what was read where it is.
     */
    public boolean fill() throws IOException {
        if (buf == null && !wake()) {
            return false;
        }
        while (!TlsRecordHeader.wholeRecordIn(buf, start, end)) {
            if (end - start >= TlsRecordHeader.SIZE
                    && TlsRecordHeader.SIZE + TlsRecordHeader.bodyLength(buf, start) > MAX_RECORD) {
                throw new TooLong(TlsRecordHeader.SIZE + TlsRecordHeader.bodyLength(buf, start));
            }
            if (buf.length - start < MAX_RECORD) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            // Inside a record, or with more announced: the rest is on its way, and while the
            // connection is busy the reader looks for it before it blocks.
            int n = spin.await(readMore);
            if (n < 0) {
                if (end == start) {
                    return false;
                }
                throw new EOFException("the peer closed the connection inside a TLS record");
            }
            end += n;
        }
        return true;
    }

    /** Waits on the small array, then takes a buffer for what came: false at the end of the stream. */
    private boolean wake() throws IOException {
        int n = socket.read(first, 0, first.length);
        if (n < 0) {
            return false;
        }
        take();
        System.arraycopy(first, 0, buf, 0, n);
        start = 0;
        end = n;
        return true;
    }

    private void take() {
        buf = BUFFERS.take();
        lent = true;
    }

    /** The buffer (null while idle with nothing in it). */
    public byte[] array() {
        return buf;
    }

    /** Where the next record starts in {@link #array()}. */
    public int start() {
        return start;
    }

    /** Where what was read ends in {@link #array()}. */
    public int end() {
        return end;
    }

    /** Marks {@code n} bytes at {@link #start()} as taken. */
    public void consumed(int n) {
        start += n;
    }

    /** Gives the buffer back if nothing is in it (the connection is about to wait, or is done); true if none is lent now. */
    public boolean releaseIdle() {
        if (buf == null) {
            return true;
        }
        if (start != end) {
            return false;
        }
        BUFFERS.give(buf);
        buf = null;
        lent = false;
        start = 0;
        end = 0;
        return true;
    }

    /**
     * True if bytes are buffered or wait on the socket: a busy connection reads on with its buffer
     * instead of waiting on the small array (and its extra system call).
     */
    public boolean inputWaiting() {
        if (start != end) {
            return true;
        }
        try {
            return socket.available() > 0;
        } catch (IOException e) {
            return true; // a broken socket: the read says so
        }
    }

    /** Bytes of the buffer if one is lent now (any thread). */
    public long heldBytes() {
        return lent ? BUFFERS.length() : 0;
    }
}
