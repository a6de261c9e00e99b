package dev.faultdisk.wire.net;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;

/**
 * A socket's input as a TLS layer reads it: each system call takes what has arrived (a burst of
 * records), where the JDK's TLS socket would read a record's 5-byte header and then its body, two
 * calls a record. While {@link #probing} it never waits: with nothing buffered it throws a
 * {@link SocketTimeoutException}, which the JDK's TLS socket treats as a read timeout (the partial
 * record is kept, the connection goes on), so a reader can take every record already here
 * without blocking on one that has not come (a record the TLS layer handles itself, such as a
 * key update, makes it read on: the refusal stops it). The reader thread alone reads it.
 */
final class BurstInput extends InputStream {
    /**
     * What one call takes at most: a burst of small records (a request is about 50 bytes in its
     * record), while most of a 16 KiB record's body goes straight into the TLS socket's array
     * (through here it would cost a copy of every byte written to the export).
     */
    private static final int CAPACITY = 4096;

    private final InputStream in;
    private final byte[] buf;
    private int pos;
    private int count;
    private boolean probing;

    /** {@code early}: bytes already read from the socket (the start of the TLS handshake). */
    BurstInput(byte[] early, InputStream in) {
        this.in = in;
        this.buf = new byte[Math.max(CAPACITY, early.length)];
        System.arraycopy(early, 0, buf, 0, early.length);
        this.count = early.length;
    }

    /**
     * True if a whole TLS record is buffered (called between records): the TLS socket can then
     * take it without a system call, and without the {@link #probing} refusal whose exception
     * would cost more than the call saved.
     */
    boolean wholeRecordBuffered() {
        return TlsRecordHeader.wholeRecordIn(buf, pos, count);
    }

    /** While true, a read with nothing buffered throws instead of waiting. */
    void probing(boolean on) {
        probing = on;
    }

    @Override
    public int read() throws IOException {
        if (pos == count && refill() <= 0) {
            return -1;
        }
        return buf[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pos == count) {
            if (probing) {
                throw new SocketTimeoutException("no buffered input");
            }
            if (len >= buf.length) {
                return ended(in.read(b, off, len)); // most of a large record's body: no copy through here
            }
            ended(refill());
        }
        int n = Math.min(len, count - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    /**
     * The end of the stream as an {@link EOFException}, not -1: the JDK reads this stream through a
     * {@link java.io.SequenceInputStream}, which at a -1 closes the socket's own stream (and with
     * it the socket) before the TLS socket has ended its side. The JDK makes an EOFException of a
     * -1 itself, so it ends the session as it would have.
     */
    private static int ended(int n) throws EOFException {
        if (n < 0) {
            throw new EOFException("the peer closed the connection");
        }
        return n;
    }

    /** Skips buffered bytes, then the socket's (what the TLS socket does to drain it at close). */
    @Override
    public long skip(long n) throws IOException {
        if (n <= 0) {
            return 0;
        }
        if (pos == count) {
            return in.skip(n);
        }
        int step = (int) Math.min(n, count - pos);
        pos += step;
        return step;
    }

    private int refill() throws IOException {
        if (probing) {
            throw new SocketTimeoutException("no buffered input");
        }
        pos = 0;
        count = 0;
        int n = in.read(buf, 0, buf.length);
        if (n > 0) {
            count = n;
        }
        return n;
    }

    @Override
    public int available() throws IOException {
        return count - pos + in.available();
    }

    /** Leaves the socket open: the TLS socket closes it itself, after ending its side. */
    @Override
    public void close() {
        // nothing of its own to release
    }
}
