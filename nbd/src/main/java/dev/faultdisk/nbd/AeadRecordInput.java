package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.IdleBuffers;
import dev.faultdisk.wire.net.RecordBuffer;
import dev.faultdisk.wire.net.TlsRecordHeader;
import java.io.IOException;
import java.io.InputStream;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.ContentType;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsDecodeResult;

/**
 * What a client of Bouncy Castle's TLS (pre-shared keys or certificates, {@link BcTlsChannel})
 * sends after the handshake, read from the socket in bursts and opened by the
 * connection's {@link AeadRecordCipher} in place: Bouncy Castle's record layer reads every record
 * into a new array (a byte of garbage for every byte a client writes), and takes two system calls
 * a record. Application data is all a client sends here; its close_notify ends the stream, any
 * other alert or a handshake message (renegotiation) ends the connection, but TLS 1.3's KeyUpdate:
 * the records after it are opened with the client's next key, and one asking for a KeyUpdate back
 * gets it before the server's next reply ({@link BcServerProtocol}). A
 * read timeout keeps what was read of a record, as the TLS layers do. The connection's reader
 * alone reads it.
 */
final class AeadRecordInput extends InputStream implements IdleBuffers {
    private static final int HEADER = TlsRecordHeader.SIZE;
    /** RFC 8446, 4.6.3: key_update (24), a body of one byte; alone in its record (5.1). */
    private static final byte[] KEY_UPDATE = {24, 0, 0, 1};

    private final RecordBuffer records;
    private final AeadRecordCipher cipher;
    /** Told of a client's KeyUpdate: it rekeys {@link #cipher} and answers one asking for an answer. */
    private final BcServerProtocol protocol;

    private long sequence;
    /** Plaintext of the last record not yet handed out (in the cipher's array). */
    private TlsDecodeResult pending;

    private int pendingAt;
    private boolean ended;

    AeadRecordInput(InputStream socket, AeadRecordCipher cipher, BcServerProtocol protocol) {
        this.records = new RecordBuffer(socket, new byte[0]);
        this.cipher = cipher;
        this.protocol = protocol;
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
            if (!records.wholeRecord()) {
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

    private boolean fill() throws IOException {
        try {
            return records.fill();
        } catch (RecordBuffer.TooLong e) {
            throw new TlsFatalAlert(AlertDescription.record_overflow, e);
        }
    }

    /** Gives the burst buffer back if none of it is unread, and the cipher's array for what it opens. */
    @Override
    public boolean releaseIdle() {
        if (pending != null || !records.releaseIdle()) {
            return false;
        }
        cipher.releaseReceived();
        return true;
    }

    @Override
    public boolean inputWaiting() {
        return pending != null || records.inputWaiting();
    }

    @Override
    public long heldBytes() {
        return records.heldBytes() + cipher.receivedHeld();
    }

    /** Opens the whole record at the buffer's start: its plaintext becomes {@link #pending}. */
    private void open() throws IOException {
        byte[] buf = records.array();
        int start = records.start();
        short type = (short) (buf[start] & 0xff);
        ProtocolVersion version = ProtocolVersion.get(buf[start + 1] & 0xff, buf[start + 2] & 0xff);
        int length = TlsRecordHeader.bodyLength(buf, start);
        TlsDecodeResult plain = cipher.decodeCiphertext(sequence++, type, version, buf, start + HEADER, length);
        records.consumed(HEADER + length); // the cipher refused a record holding more than TLS allows
        switch (plain.contentType) { // TLS 1.3's is sealed inside the record
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
            case ContentType.handshake -> {
                if (!cipher.tls13() || !isKeyUpdate(plain)) {
                    throw new TlsFatalAlert(AlertDescription.unexpected_message); // renegotiation refused
                }
                protocol.keyUpdateReceived(plain.buf[plain.off + KEY_UPDATE.length]);
                sequence = 0;
            }
            default -> throw new TlsFatalAlert(AlertDescription.unexpected_message);
        }
    }

    /** A KeyUpdate, whatever its request: {@link BcServerProtocol} refuses one neither 0 nor 1. */
    private static boolean isKeyUpdate(TlsDecodeResult plain) {
        if (plain.len != KEY_UPDATE.length + 1) {
            return false;
        }
        for (int i = 0; i < KEY_UPDATE.length; i++) {
            if (plain.buf[plain.off + i] != KEY_UPDATE[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int available() {
        return pending == null ? 0 : pending.len - pendingAt;
    }
}
