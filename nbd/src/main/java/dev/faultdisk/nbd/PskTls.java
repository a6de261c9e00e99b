package dev.faultdisk.nbd;

import dev.faultdisk.wire.FileErrors;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * TLS with pre-shared keys, as nbdkit's {@code --tls-psk=FILE} and QEMU's {@code tls-creds-psk}
 * offer it: a file of {@code USERNAME:HEXKEY} lines ({@code psktool} writes them). The JDK's TLS
 * has no PSK, so this uses Bouncy Castle's TLS API (TLS 1.3 with the key and an ephemeral ECDHE
 * share, or TLS 1.2 PSK suites with ECDHE/DHE), over the JDK's ciphers ({@link PskCrypto}).
 */
public final class PskTls {
    /**
     * Whether records received in AES-GCM or ChaCha20-Poly1305 are read by {@link PskRecordInput} (the default) or by
     * Bouncy Castle's record layer: {@code -Dfaultdisk.nbd.pskRecordInput=false}, for comparison.
     */
    private static final boolean RECORD_INPUT =
            Boolean.parseBoolean(System.getProperty("faultdisk.nbd.pskRecordInput", "true"));

    private final Map<String, byte[]> keys;
    private final Path file;

    private PskTls(Map<String, byte[]> keys, Path file) {
        this.keys = keys;
        this.file = file;
    }

    /** Reads {@code USERNAME:HEXKEY} lines; blank lines and lines starting with # are skipped. */
    public static PskTls load(Path file) throws IOException {
        Map<String, byte[]> keys = new LinkedHashMap<>();
        int n = 0;
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read the PSK file " + file + ": " + FileErrors.reason(e), e);
        }
        for (String line : lines) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            int colon = t.lastIndexOf(':');
            try {
                if (colon <= 0) {
                    throw new IllegalArgumentException("no ':'");
                }
                keys.put(t.substring(0, colon), HexFormat.of().parseHex(t.substring(colon + 1)));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ":" + n + ": not USERNAME:HEXKEY (" + e.getMessage() + ")", e);
            }
        }
        if (keys.isEmpty()) {
            throw new IOException(file + ": no USERNAME:HEXKEY line");
        }
        return new PskTls(keys, file);
    }

    /**
     * One key for {@code user}, made in memory rather than read from a file ({@code serve
     * --warm-up}'s private server); {@link #file} is then null.
     */
    public static PskTls of(String user, byte[] key) {
        return new PskTls(Map.of(user, key.clone()), null);
    }

    /**
     * A TLS 1.3 external key as this server binds it, for its clients too: to SHA-256, as GnuTLS
     * binds one (RFC 9258's default). A key bound otherwise on one side would not match the other.
     */
    public static TlsPSKExternal tls13Key(TlsCrypto crypto, byte[] identity, byte[] key) {
        return new BasicTlsPSKExternal(identity, crypto.createSecret(key), PRFAlgorithm.tls13_hkdf_sha256);
    }

    /** The file the keys came from, or null for {@link #of}'s. */
    public Path file() {
        return file;
    }

    /** The first user in the file: the one a client example names. */
    public String firstUser() {
        return keys.keySet().iterator().next();
    }

    /**
     * Runs the server side of the handshake on {@code plain} (after the STARTTLS ACK), {@code
     * early} being bytes already read from it; bounded by {@code timeoutMillis}.
     */
    StreamChannel handshake(Socket plain, byte[] early, int timeoutMillis) throws IOException {
        InputStream in = early.length == 0
                ? plain.getInputStream()
                : new SequenceInputStream(new ByteArrayInputStream(early), plain.getInputStream());
        PskServerProtocol protocol =
                new PskServerProtocol(new KeptOpenInput(in), new KeptOpenOutput(plain.getOutputStream()));
        TlsPSKIdentityManager identities = new TlsPSKIdentityManager() {
            @Override
            public byte[] getHint() {
                return null;
            }

            @Override
            public byte[] getPSK(byte[] identity) {
                byte[] key = keys.get(new String(identity, StandardCharsets.UTF_8));
                return key == null ? null : key.clone();
            }
        };
        int old = plain.getSoTimeout();
        plain.setSoTimeout(timeoutMillis);
        PskServer server = new PskServer(identities);
        try {
            protocol.accept(server);
        } catch (IOException e) {
            throw new javax.net.ssl.SSLException("PSK handshake failed: " + e.getMessage() + server.refusal(), e);
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
