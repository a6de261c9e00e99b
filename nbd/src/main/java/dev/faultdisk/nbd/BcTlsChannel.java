package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.GatheringOutput;
import dev.faultdisk.wire.net.IdleBuffers;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLException;

/**
 * A server's TLS session by Bouncy Castle's handshake ({@link BcTlsServer}, with pre-shared keys
 * or certificates), its AES-GCM and ChaCha20-Poly1305 records read by {@link AeadRecordInput} and
 * sealed by {@link AeadRecordCipher}, as streams for the connection.
 */
final class BcTlsChannel {
    /**
     * Whether records received in AES-GCM or ChaCha20-Poly1305 are read by {@link AeadRecordInput} (the default) or by
     * Bouncy Castle's record layer: {@code -Dfaultdisk.nbd.tlsRecordInput=false}, for comparison, with either kind of
     * TLS ({@code faultdisk.nbd.pskRecordInput}, its name from when only pre-shared keys took this path, is read too).
     */
    private static final boolean RECORD_INPUT = Boolean.parseBoolean(System.getProperty(
            "faultdisk.nbd.tlsRecordInput", System.getProperty("faultdisk.nbd.pskRecordInput", "true")));

    /**
     * Whether a write's records go to the socket in batches ({@link RecordBatchOutput}, the
     * default) or each as it is sealed: {@code -Dfaultdisk.nbd.tlsRecordBatches=false}, for comparison.
     */
    private static final boolean BATCHES =
            Boolean.parseBoolean(System.getProperty("faultdisk.nbd.tlsRecordBatches", "true"));

    private BcTlsChannel() {}

    /**
     * Runs {@code server}'s end of the handshake on {@code plain} (after the STARTTLS ACK), {@code
     * early} being bytes already read from it, bounded by {@code timeoutMillis}; a failure's
     * message starts with {@code failed} and ends with the server's reason.
     */
    static StreamChannel accept(Socket plain, byte[] early, int timeoutMillis, BcTlsServer server, String failed)
            throws IOException {
        InputStream in = early.length == 0
                ? plain.getInputStream()
                : new SequenceInputStream(new ByteArrayInputStream(early), plain.getInputStream());
        RecordBatchOutput records = new RecordBatchOutput(plain.getOutputStream());
        BcServerProtocol protocol = new BcServerProtocol(new KeptOpenInput(in), records);
        int old = plain.getSoTimeout();
        plain.setSoTimeout(timeoutMillis);
        try {
            protocol.accept(server);
        } catch (IOException e) {
            // Bouncy Castle's alert names itself only; what went wrong, if it knows, is its cause.
            String cause = e.getCause() == null ? "" : " (" + e.getCause() + ")";
            throw new SSLException(failed + e.getMessage() + cause + server.refusal(), e);
        }
        plain.setSoTimeout(old);
        AeadRecordCipher aead = server.aead();
        // Bouncy Castle reads no further than the handshake's last record: the rest is the client's data.
        InputStream input =
                aead != null && RECORD_INPUT ? new AeadRecordInput(in, aead, protocol) : protocol.getInputStream();
        OutputStream output = protocol.getOutputStream();
        if (aead != null && BATCHES) {
            aead.sendThrough(records);
            output = new AeadOutput(output, aead, records);
        } else if (aead != null) {
            output = new AeadOutput(output, aead, null);
        }
        // Bouncy Castle's close sends close_notify; its streams leave the socket to the connection.
        return new StreamChannel(input, output, plain, server.session()).endingOutputWith(protocol::close);
    }

    /** The socket's input as Bouncy Castle reads it: closing the session leaves the socket open. */
    private static final class KeptOpenInput extends FilterInputStream {
        KeptOpenInput(InputStream in) {
            super(in);
        }

        @Override
        public void close() {}
    }

    /** Bouncy Castle's output, through which an idle connection gives back the array its AEAD sends from. */
    private static final class AeadOutput extends OutputStream implements IdleBuffers, GatheringOutput {
        private final OutputStream out;
        private final AeadRecordCipher cipher;
        /** Where a write's records wait to go out together, or null: each goes out as sealed. */
        private final RecordBatchOutput records;

        private final ByteBuffer[] single = new ByteBuffer[1];

        AeadOutput(OutputStream out, AeadRecordCipher cipher, RecordBatchOutput records) {
            this.out = out;
            this.cipher = cipher;
            this.records = records;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (records == null) {
                out.write(b, off, len);
                return;
            }
            records.cork();
            try {
                out.write(b, off, len);
            } finally {
                records.uncork();
            }
        }

        /** One buffer, as {@link #write(ByteBuffer[], int, int)}; the connection writes one reply at a time. */
        @Override
        public long write(ByteBuffer src) throws IOException {
            single[0] = src;
            try {
                return write(single, 0, 1);
            } finally {
                single[0] = null;
            }
        }

        /**
         * Sealed straight from the buffers: Bouncy Castle is handed {@link
         * AeadRecordCipher#GATHERED}, and the cipher takes each record's bytes from the buffers.
         */
        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += srcs[i].remaining();
            }
            if (records != null) {
                records.cork();
            }
            cipher.gatherFrom(srcs, offset, length);
            try {
                for (long left = total; left > 0; ) {
                    int n = (int) Math.min(left, AeadRecordCipher.GATHERED.length);
                    out.write(AeadRecordCipher.GATHERED, 0, n);
                    left -= n;
                }
            } finally {
                cipher.gathered();
                if (records != null) {
                    records.uncork();
                }
            }
            return total;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }

        @Override
        public boolean releaseIdle() {
            cipher.releaseSent();
            return true;
        }

        @Override
        public long heldBytes() {
            return cipher.sentHeld();
        }
    }
}
