package dev.faultdisk.wire.net;

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
    /** A TLS record's header: type, version, length (RFC 8446, 5.1). */
    private static final int RECORD_HEADER = 5;

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
        int n = count - pos;
        if (n < RECORD_HEADER) {
            return false;
        }
        int length = ((buf[pos + 3] & 0xff) << 8) | (buf[pos + 4] & 0xff);
        return n >= RECORD_HEADER + length;
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
                return in.read(b, off, len); // most of a large record's body: no copy through here
            }
            int n = refill();
            if (n <= 0) {
                return n;
            }
        }
        int n = Math.min(len, count - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
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

    @Override
    public void close() throws IOException {
        in.close();
    }
}
