package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.ArrayPool;
import dev.faultdisk.wire.net.TlsRecordHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.ContentType;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsCipher;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.TlsDecodeResult;
import org.bouncycastle.tls.crypto.TlsEncodeResult;
import org.bouncycastle.tls.crypto.impl.TlsImplUtils;

/**
 * TLS records in AES-GCM or ChaCha20-Poly1305 with the JDK's ciphers: TLS 1.2's (RFC 5288, RFC
 * 7905) and TLS 1.3's (RFC 8446, 5.2), into arrays lent to it while the connection is busy:
 * Bouncy Castle's own record cipher makes a new array for every record it sends (16 KiB, a byte
 * of garbage for every byte a PSK connection sent). Bouncy Castle writes a record to the socket
 * before it asks for the next, and it (or {@link AeadRecordInput}) hands out what a record holds
 * before it opens the next, so one array each way serves every record: application data is
 * written under Bouncy Castle's record lock, and read by the connection's reader alone. Alerts and
 * handshake messages, which Bouncy Castle may send from the reader while a reply goes out, get
 * arrays of their own.
 */
final class AeadRecordCipher implements TlsCipher {
    /**
     * The two AEADs: the JDK's cipher, its key's name, and in TLS 1.2 the fixed part of the nonce
     * from the key block and the explicit part sent before each record's ciphertext (AES-GCM's 4
     * and 8 bytes; ChaCha20-Poly1305's whole 12-byte IV and none, the sequence number XORed in as
     * in TLS 1.3).
     */
    enum Aead {
        AES_GCM("AES/GCM/NoPadding", "AES", 4, 8),
        CHACHA20_POLY1305("ChaCha20-Poly1305", "ChaCha20", 12, 0);

        final String transformation;
        final String keyAlgorithm;
        final int fixedIv;
        final int explicitNonce;

        Aead(String transformation, String keyAlgorithm, int fixedIv, int explicitNonce) {
            this.transformation = transformation;
            this.keyAlgorithm = keyAlgorithm;
            this.fixedIv = fixedIv;
            this.explicitNonce = explicitNonce;
        }

        AlgorithmParameterSpec nonce(byte[] nonce) {
            return this == AES_GCM ? new GCMParameterSpec(TAG * 8, nonce) : new IvParameterSpec(nonce);
        }

        /** Whether this JDK has the cipher (every JDK since 11 has both). */
        boolean available() {
            try {
                Cipher.getInstance(transformation);
                return true;
            } catch (GeneralSecurityException e) {
                return false;
            }
        }
    }

    /** The largest explicit nonce, for the lent arrays' size. */
    private static final int EXPLICIT_NONCE = 8;

    private static final int NONCE = 12;
    private static final int TAG = 16;
    /**
     * Arrays for a whole record, header and all, lent while the connection is busy: the one it
     * sends from and the one it opens into go back when it waits idle.
     */
    private static final ArrayPool RECORDS =
            new ArrayPool(TlsRecordHeader.SIZE + EXPLICIT_NONCE + TlsRecordHeader.MAX_PLAINTEXT + TAG, 256);
    /**
     * Arrays application data is sealed into, one record after another, for {@link
     * RecordBatchOutput} to send several at once: room for its batch of four whole records.
     */
    private static final ArrayPool BATCHES = new ArrayPool(4 * RECORDS.length(), 64);

    /**
     * Stands for plaintext the cipher takes from the buffers it was given ({@link #gatherFrom}):
     * Bouncy Castle cuts a write into records and passes each piece on without reading it, so a
     * reply read from a file's mapping is copied once, into the record it is sealed in.
     */
    static final byte[] GATHERED = new byte[TlsRecordHeader.MAX_PLAINTEXT];

    /** TLS 1.3's inner content type, after the plaintext (RFC 8446, 5.2). */
    private static final int INNER_TYPE = 1;

    private final Aead aead;
    private final Cipher encrypt;
    private final Cipher decrypt;
    private final TlsCryptoParameters params;
    private final int keySize;
    /** TLS 1.3's records (no explicit nonce, the type inside, keys from traffic secrets) or 1.2's. */
    private final boolean tls13;

    private SecretKey encryptKey;
    private SecretKey decryptKey;
    /** TLS 1.3: each direction's keys, kept for its rekeying; null in TLS 1.2. */
    private Tls13TrafficKeys sendKeys;

    private Tls13TrafficKeys receiveKeys;
    private final byte[] encryptNonce = new byte[NONCE];
    private final byte[] decryptNonce = new byte[NONCE];
    /** TLS 1.2 ChaCha20-Poly1305: each direction's IV, the sequence number XORed into it (RFC 7905). */
    private byte[] encryptIv;

    private byte[] decryptIv;
    // Additional data (TLS 1.2: sequence number, type, version, length; TLS 1.3: the record's
    // header): one each way, as records are sent and received at once.
    private final byte[] sentAdditional;
    private final byte[] receivedAdditional;
    /** The array application data is sent from; null while the connection is idle. */
    private byte[] sent;
    /** Where in {@link #sent} the next record goes: after those still waiting in {@link #batch}. */
    private int sentEnd;
    /** The output that sends records in batches, or null: each record then goes out before the next is sealed. */
    private RecordBatchOutput batch;
    /** While a gathered write is under way: its buffers, the one read now and the end. */
    private ByteBuffer[] gathering;

    private int gatherAt;
    private int gatherEnd;
    /** The array records are opened into; null while the connection is idle. */
    private byte[] received;
    /** Bytes of each lent now, for {@link #sentHeld} and {@link #receivedHeld} off their threads. */
    private volatile int sentLent;

    private volatile int receivedLent;
    /** The sequence number of the next record to open (the handshake's Finished was the first). */
    private long nextReceived;

    /**
     * {@code keySize} in bytes (16 or 32 for AES, 32 for ChaCha20); in TLS 1.2 the keys and fixed
     * IVs come from the handshake's key block, in TLS 1.3 from the traffic secrets in force (the
     * handshake's first).
     */
    AeadRecordCipher(TlsCryptoParameters params, Aead aead, int keySize) throws IOException, GeneralSecurityException {
        this.params = params;
        this.aead = aead;
        this.keySize = keySize;
        this.tls13 =
                TlsImplUtils.isTLSv13(params.getSecurityParametersHandshake().getNegotiatedVersion());
        sentAdditional = new byte[tls13 ? TlsRecordHeader.SIZE : 13];
        receivedAdditional = new byte[tls13 ? TlsRecordHeader.SIZE : 13];
        encrypt = Cipher.getInstance(aead.transformation);
        decrypt = Cipher.getInstance(aead.transformation);
        boolean isServer = params.isServer();
        if (tls13) {
            setSendKeys(
                    Tls13TrafficKeys.of(params.getSecurityParametersHandshake(), isServer, keySize, aead.keyAlgorithm));
            setReceiveKeys(Tls13TrafficKeys.of(
                    params.getSecurityParametersHandshake(), !isServer, keySize, aead.keyAlgorithm));
            return;
        }
        int fixedIv = aead.fixedIv;
        byte[] block = TlsImplUtils.calculateKeyBlock(params, 2 * keySize + 2 * fixedIv);
        // RFC 5246, 6.3: client key, server key, client IV (AES-GCM's salt), server IV.
        SecretKey client = new SecretKeySpec(block, 0, keySize, aead.keyAlgorithm);
        SecretKey server = new SecretKeySpec(block, keySize, keySize, aead.keyAlgorithm);
        int clientIv = 2 * keySize;
        int serverIv = clientIv + fixedIv;
        int ownIv = isServer ? serverIv : clientIv;
        int peerIv = isServer ? clientIv : serverIv;
        encryptKey = isServer ? server : client;
        decryptKey = isServer ? client : server;
        if (aead.explicitNonce > 0) {
            System.arraycopy(block, ownIv, encryptNonce, 0, fixedIv);
            System.arraycopy(block, peerIv, decryptNonce, 0, fixedIv);
        } else {
            encryptIv = Arrays.copyOfRange(block, ownIv, ownIv + fixedIv);
            decryptIv = Arrays.copyOfRange(block, peerIv, peerIv + fixedIv);
        }
        Arrays.fill(block, (byte) 0);
    }

    private void setSendKeys(Tls13TrafficKeys keys) {
        sendKeys = keys;
        encryptKey = keys.key();
    }

    private void setReceiveKeys(Tls13TrafficKeys keys) {
        receiveKeys = keys;
        decryptKey = keys.key();
        nextReceived = 0;
    }

    /** What a record adds to its plaintext: TLS 1.2's explicit nonce (AES-GCM), TLS 1.3's inner type; and the tag. */
    private int overhead() {
        return (tls13 ? INNER_TYPE : aead.explicitNonce) + TAG;
    }

    @Override
    public int getCiphertextDecodeLimit(int plaintextLimit) {
        return plaintextLimit + overhead();
    }

    @Override
    public int getCiphertextEncodeLimit(int plaintextLimit) {
        return plaintextLimit + overhead();
    }

    @Override
    public int getPlaintextDecodeLimit(int ciphertextLimit) {
        return ciphertextLimit - overhead();
    }

    @Override
    public int getPlaintextEncodeLimit(int ciphertextLimit) {
        return ciphertextLimit - overhead();
    }

    /** Synchronized: an alert the reader sends may meet a reply a writer sends (one cipher). */
    @Override
    public synchronized TlsEncodeResult encodePlaintext(
            long seqNo,
            short type,
            ProtocolVersion version,
            int headerAllocation,
            byte[] plaintext,
            int offset,
            int len)
            throws IOException {
        int total = headerAllocation + overhead() + len;
        byte[] out;
        int at = 0;
        boolean intoSent = type == ContentType.application_data;
        if (!intoSent) {
            out = new byte[total];
        } else {
            at = placeSent(total);
            out = sent;
        }
        try {
            if (tls13) {
                // The content type sealed after the plaintext; the header says application data.
                sendKeys.nonce(seqNo, encryptNonce);
                encrypt.init(Cipher.ENCRYPT_MODE, encryptKey, aead.nonce(encryptNonce));
                encrypt.updateAAD(header(sentAdditional, version, len + INNER_TYPE + TAG));
                // Sealed in place: the JDK's GCM allocates for an update followed by a final piece.
                int body = at + headerAllocation;
                takePlaintext(plaintext, offset, len, out, body);
                out[body + len] = (byte) type;
                int n = encrypt.doFinal(out, body, len + INNER_TYPE, out, body);
                sentEnd = intoSent ? body + n : sentEnd;
                return new TlsEncodeResult(out, at, headerAllocation + n, ContentType.application_data);
            }
            int explicit = aead.explicitNonce;
            if (explicit > 0) {
                // The sequence number is the explicit nonce: never the same twice under one key.
                putLong(encryptNonce, aead.fixedIv, seqNo);
                System.arraycopy(encryptNonce, aead.fixedIv, out, at + headerAllocation, explicit);
            } else {
                Tls13TrafficKeys.xorSequence(encryptIv, seqNo, encryptNonce);
            }
            encrypt.init(Cipher.ENCRYPT_MODE, encryptKey, aead.nonce(encryptNonce));
            encrypt.updateAAD(additionalData(sentAdditional, seqNo, type, version, len));
            int body = at + headerAllocation + explicit;
            takePlaintext(plaintext, offset, len, out, body);
            int n = encrypt.doFinal(out, body, len, out, body); // in place, as in TLS 1.3
            sentEnd = intoSent ? at + headerAllocation + explicit + n : sentEnd;
            return new TlsEncodeResult(out, at, headerAllocation + explicit + n, type);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    @Override
    public TlsDecodeResult decodeCiphertext(
            long seqNo, short type, ProtocolVersion version, byte[] ciphertext, int offset, int len)
            throws IOException {
        int plain = len - overhead();
        if (plain < 0) {
            throw new TlsFatalAlert(AlertDescription.decode_error);
        }
        // TLS 1.3 counts the inner type and any padding within the limit too (RFC 8446, 5.4).
        if (plain > TlsRecordHeader.MAX_PLAINTEXT) {
            throw new TlsFatalAlert(AlertDescription.record_overflow);
        }
        if (received == null) {
            received = RECORDS.take();
            receivedLent = received.length;
        }
        try {
            if (tls13) {
                if (type != ContentType.application_data) {
                    throw new TlsFatalAlert(AlertDescription.unexpected_message); // TLS 1.3 hides every other type
                }
                receiveKeys.nonce(seqNo, decryptNonce);
                decrypt.init(Cipher.DECRYPT_MODE, decryptKey, aead.nonce(decryptNonce));
                decrypt.updateAAD(header(receivedAdditional, version, len));
                int n = decrypt.doFinal(ciphertext, offset, len, received, 0);
                nextReceived = seqNo + 1;
                while (n > 0 && received[n - 1] == 0) {
                    n--; // padding
                }
                if (n == 0) {
                    throw new TlsFatalAlert(AlertDescription.unexpected_message); // no content type
                }
                return new TlsDecodeResult(received, 0, n - 1, (short) (received[n - 1] & 0xff));
            }
            int explicit = aead.explicitNonce;
            if (explicit > 0) {
                System.arraycopy(ciphertext, offset, decryptNonce, aead.fixedIv, explicit);
            } else {
                Tls13TrafficKeys.xorSequence(decryptIv, seqNo, decryptNonce);
            }
            decrypt.init(Cipher.DECRYPT_MODE, decryptKey, aead.nonce(decryptNonce));
            decrypt.updateAAD(additionalData(receivedAdditional, seqNo, type, version, plain));
            int n = decrypt.doFinal(ciphertext, offset + explicit, len - explicit, received, 0);
            nextReceived = seqNo + 1;
            return new TlsDecodeResult(received, 0, n, type);
        } catch (AEADBadTagException e) {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    /** Gives back the array records are opened into: none of what it holds is still to be read (reader thread). */
    void releaseReceived() {
        RECORDS.give(received);
        received = null;
        receivedLent = 0;
    }

    /**
     * Where in {@link #sent} a record of {@code total} bytes goes: right after the records still
     * waiting in {@link #batch}, or at the start once none wait (those that did are sent first if
     * it would not fit).
     */
    private int placeSent(int total) throws IOException {
        if (sent == null || sent.length < total) {
            if (batch != null) {
                batch.drain(); // the old array's records go before it goes
            }
            int lend = batch != null ? BATCHES.length() : RECORDS.length();
            sent = total <= lend ? (batch != null ? BATCHES : RECORDS).take() : new byte[total];
            sentLent = sent.length;
            sentEnd = 0;
        }
        if (batch == null || batch.nothingWaiting()) {
            sentEnd = 0;
        } else if (sentEnd + total > sent.length) {
            batch.drain();
            sentEnd = 0;
        }
        return sentEnd;
    }

    /**
     * The plaintext of a record into {@code out} at {@code at}: from the gathered buffers where
     * Bouncy Castle passes on {@link #GATHERED}, else from {@code plaintext}.
     */
    @SuppressWarnings("ReferenceEquality") // the stand-in itself, whatever it holds
    private void takePlaintext(byte[] plaintext, int offset, int len, byte[] out, int at) {
        if (plaintext != GATHERED || gathering == null) {
            System.arraycopy(plaintext, offset, out, at, len);
            return;
        }
        int taken = 0;
        while (taken < len) {
            if (gatherAt == gatherEnd) {
                throw new IllegalStateException("a gathered record of " + len + " bytes past its buffers' end");
            }
            ByteBuffer src = gathering[gatherAt];
            int n = Math.min(src.remaining(), len - taken);
            src.get(out, at + taken, n);
            taken += n;
            if (!src.hasRemaining()) {
                gatherAt++;
            }
        }
    }

    /**
     * The buffers application data written as {@link #GATHERED} comes from, in order, until
     * {@link #gathered}; their positions move as records take their bytes.
     */
    synchronized void gatherFrom(ByteBuffer[] srcs, int offset, int length) {
        gathering = srcs;
        gatherAt = offset;
        gatherEnd = offset + length;
    }

    /** The gathered write is over: its buffers are the caller's again. */
    synchronized void gathered() {
        gathering = null;
    }

    /** Records sealed one after another into the array sent from, for {@code output} to send in batches. */
    synchronized void sendThrough(RecordBatchOutput output) {
        batch = output;
    }

    /** Gives back the array application data is sent from: no write is under way, none waits. */
    synchronized void releaseSent() {
        (sent != null && sent.length == BATCHES.length() ? BATCHES : RECORDS).give(sent);
        sent = null;
        sentLent = 0;
        sentEnd = 0;
    }

    /** Bytes of the array application data is sent from, if one is lent now (any thread). */
    long sentHeld() {
        return sentLent;
    }

    /** Bytes of the array records are opened into, if one is lent now (any thread). */
    long receivedHeld() {
        return receivedLent;
    }

    /** The sequence number the next record received has (reader thread). */
    long nextReceiveSequence() {
        return nextReceived;
    }

    /** Whether the records are TLS 1.3's. */
    boolean tls13() {
        return tls13;
    }

    /** RFC 5246, 6.2.3.3: seq_num, type, version, length of the plaintext. */
    private static byte[] additionalData(
            byte[] additional, long seqNo, short type, ProtocolVersion version, int length) {
        putLong(additional, 0, seqNo);
        additional[8] = (byte) type;
        additional[9] = (byte) version.getMajorVersion();
        additional[10] = (byte) version.getMinorVersion();
        additional[11] = (byte) (length >>> 8);
        additional[12] = (byte) length;
        return additional;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    /** RFC 8446, 5.2: the record's header (opaque type, legacy version, length) as additional data. */
    private static byte[] header(byte[] additional, ProtocolVersion version, int length) {
        additional[0] = ContentType.application_data;
        additional[1] = (byte) version.getMajorVersion();
        additional[2] = (byte) version.getMinorVersion();
        additional[3] = (byte) (length >>> 8);
        additional[4] = (byte) length;
        return additional;
    }

    /** TLS 1.3: Bouncy Castle moves to the client's application traffic secret (or its next). */
    @Override
    public void rekeyDecoder() throws IOException {
        if (!tls13) {
            throw new TlsFatalAlert(AlertDescription.internal_error);
        }
        setReceiveKeys(Tls13TrafficKeys.of(
                params.getSecurityParametersConnection(), !params.isServer(), keySize, aead.keyAlgorithm));
    }

    /** TLS 1.3: Bouncy Castle moves to the server's application traffic secret (or its next). */
    @Override
    public synchronized void rekeyEncoder() throws IOException {
        if (!tls13) {
            throw new TlsFatalAlert(AlertDescription.internal_error);
        }
        setSendKeys(Tls13TrafficKeys.of(
                params.getSecurityParametersConnection(), params.isServer(), keySize, aead.keyAlgorithm));
    }

    @Override
    public boolean usesOpaqueRecordTypeDecode() {
        return tls13;
    }

    @Override
    public boolean usesOpaqueRecordTypeEncode() {
        return tls13;
    }
}
