package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.ArrayPool;
import dev.faultdisk.wire.net.IdleBuffers;
import dev.faultdisk.wire.net.TlsRecordHeader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.ContentType;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsDecodeResult;

/**
 * What a PSK client sends after the handshake, read from the socket in bursts and opened by the
 * connection's {@link GcmRecordCipher} in place: Bouncy Castle's record layer reads every record
 * into a new array (a byte of garbage for every byte a client writes), and takes two system calls
 * a record. Application data is all a client sends here; its close_notify ends the stream, any
 * other alert or a handshake message (renegotiation) ends the connection. A read timeout keeps
 * what was read of a record, as the TLS layers do. The connection's reader alone reads it.
 */
final class PskRecordInput extends InputStream implements IdleBuffers {
    private static final int HEADER = TlsRecordHeader.SIZE;
    /** The most a record may hold (RFC 5246, 6.2.1). */
    private static final int MAX_PLAINTEXT = 1 << 14;
    /** The largest record TLS 1.2 allows: 2^14 bytes and 2048 of expansion. */
    private static final int MAX_RECORD = HEADER + MAX_PLAINTEXT + 2048;

    /** Burst buffers, lent while the connection is busy: an idle one holds {@link #first} alone. */
    private static final ArrayPool BUFFERS = new ArrayPool(4 * MAX_RECORD, 128);

    private final InputStream socket;
    private final GcmRecordCipher cipher;
    /** What an idle connection waits on: room for a burst of small requests, one record each. */
    private final byte[] first = new byte[1024];
    /** The burst buffer; null while the connection waits idle with none of it unread. */
    private byte[] buf = BUFFERS.take();
    /** Whether {@link #buf} is lent now, for {@link #heldBytes} off the reader thread. */
    private volatile boolean lent = true;

    private int start;
    private int end;
    private long sequence;
    /** Plaintext of the last record not yet handed out (in the cipher's array). */
    private TlsDecodeResult pending;

    private int pendingAt;
    private boolean ended;

    PskRecordInput(InputStream socket, GcmRecordCipher cipher) {
        this.socket = socket;
        this.cipher = cipher;
        this.sequence = cipher.nextReceiveSequence();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    /** Hands out what arrived: at least a byte, waiting for it, then only what is here already. */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int done = 0;
        while (done < len) {
            if (pending != null) {
                int n = Math.min(len - done, pending.len - pendingAt);
                System.arraycopy(pending.buf, pending.off + pendingAt, b, off + done, n);
                done += n;
                pendingAt += n;
                if (pendingAt == pending.len) {
                    pending = null;
                }
                continue;
            }
            if (ended) {
                break;
            }
            if (!TlsRecordHeader.wholeRecordIn(buf, start, end)) {
                if (done > 0) {
                    break; // only what is here already
                }
                if (!fill()) {
                    ended = true;
                    break;
                }
            }
            open();
        }
        return done == 0 && ended ? -1 : done;
    }

    /**
     * Reads until a whole record is buffered; false at the end of the stream between records. A
     * timeout leaves what was read where it is.
     */
    private boolean fill() throws IOException {
        if (buf == null && !wake()) {
            return false;
        }
        while (!TlsRecordHeader.wholeRecordIn(buf, start, end)) {
            if (end - start >= HEADER && HEADER + TlsRecordHeader.bodyLength(buf, start) > MAX_RECORD) {
                throw new TlsFatalAlert(AlertDescription.record_overflow);
            }
            if (buf.length - start < MAX_RECORD) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            int n = socket.read(buf, end, buf.length - end);
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

    /**
     * Waits on the small array, then takes a burst buffer for what came: false at the end of the
     * stream. A timeout leaves the connection as it was.
     */
    private boolean wake() throws IOException {
        int n = socket.read(first, 0, first.length);
        if (n < 0) {
            return false;
        }
        buf = BUFFERS.take();
        lent = true;
        System.arraycopy(first, 0, buf, 0, n);
        start = 0;
        end = n;
        return true;
    }

    /** Gives the burst buffer back if none of it is unread, and the cipher's array for what it opens. */
    @Override
    public void releaseIdle() {
        if (buf != null && start == end && pending == null) {
            BUFFERS.give(buf);
            buf = null;
            lent = false;
            start = 0;
            end = 0;
        }
        if (pending == null) {
            cipher.releaseReceived();
        }
    }

    @Override
    public long heldBytes() {
        return (lent ? BUFFERS.length() : 0) + cipher.receivedHeld();
    }

    /** Opens the whole record at {@code start}: its plaintext becomes {@link #pending}. */
    private void open() throws IOException {
        short type = (short) (buf[start] & 0xff);
        ProtocolVersion version = ProtocolVersion.get(buf[start + 1] & 0xff, buf[start + 2] & 0xff);
        int length = TlsRecordHeader.bodyLength(buf, start);
        TlsDecodeResult plain = cipher.decodeCiphertext(sequence++, type, version, buf, start + HEADER, length);
        start += HEADER + length;
        if (plain.len > MAX_PLAINTEXT) {
            throw new TlsFatalAlert(AlertDescription.record_overflow);
        }
        switch (type) {
            case ContentType.application_data -> {
                if (plain.len > 0) {
                    pending = plain;
                    pendingAt = 0;
                }
            }
            case ContentType.alert -> {
                if (plain.len == 2 && plain.buf[plain.off + 1] == AlertDescription.close_notify) {
                    ended = true;
                } else {
                    throw new IOException("the client sent TLS alert "
                            + (plain.len == 2
                                    ? AlertDescription.getText((short) (plain.buf[plain.off + 1] & 0xff))
                                    : "of " + plain.len + " bytes"));
                }
            }
            default -> throw new TlsFatalAlert(AlertDescription.unexpected_message); // renegotiation refused
        }
    }

    @Override
    public int available() {
        return pending == null ? 0 : pending.len - pendingAt;
    }
}
