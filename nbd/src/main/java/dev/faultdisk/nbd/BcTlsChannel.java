package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.IdleBuffers;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.Socket;
import javax.net.ssl.SSLException;

/**
 * A server's TLS session by Bouncy Castle's handshake ({@link BcTlsServer}, with pre-shared keys
 * or certificates), its AES-GCM and ChaCha20-Poly1305 records read by {@link PskRecordInput} and
 * sealed by {@link AeadRecordCipher}, as streams for the connection.
 */
final class BcTlsChannel {
    /**
     * Whether records received in AES-GCM or ChaCha20-Poly1305 are read by {@link PskRecordInput} (the default) or by
     * Bouncy Castle's record layer: {@code -Dfaultdisk.nbd.pskRecordInput=false}, for comparison.
     */
    private static final boolean RECORD_INPUT =
            Boolean.parseBoolean(System.getProperty("faultdisk.nbd.pskRecordInput", "true"));

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
        PskServerProtocol protocol =
                new PskServerProtocol(new KeptOpenInput(in), new KeptOpenOutput(plain.getOutputStream()));
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
                aead != null && RECORD_INPUT ? new PskRecordInput(in, aead, protocol) : protocol.getInputStream();
        OutputStream output =
                aead != null ? new AeadOutput(protocol.getOutputStream(), aead) : protocol.getOutputStream();
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

    /** The socket's output as Bouncy Castle writes it: closing the session flushes, the socket stays open. */
    private static final class KeptOpenOutput extends FilterOutputStream {
        KeptOpenOutput(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len); // whole, not a byte at a time as FilterOutputStream would
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }

    /** Bouncy Castle's output, through which an idle connection gives back the array its AEAD sends from. */
    private static final class AeadOutput extends OutputStream implements IdleBuffers {
        private final OutputStream out;
        private final AeadRecordCipher cipher;

        AeadOutput(OutputStream out, AeadRecordCipher cipher) {
            this.out = out;
            this.cipher = cipher;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
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
