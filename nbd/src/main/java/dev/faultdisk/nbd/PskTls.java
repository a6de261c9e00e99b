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
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.PSKTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.TlsUtils;

/**
 * TLS with pre-shared keys, as nbdkit's {@code --tls-psk=FILE} and QEMU's {@code tls-creds-psk}
 * offer it: a file of {@code USERNAME:HEXKEY} lines ({@code psktool} writes them). The JDK's TLS
 * has no PSK, so this uses Bouncy Castle's TLS API (TLS 1.3 with the key and an ephemeral ECDHE
 * share, or TLS 1.2 PSK suites with ECDHE/DHE), over the JDK's ciphers ({@link PskCrypto}).
 */
public final class PskTls {
    /**
     * Whether records received in AES-GCM are read by {@link PskRecordInput} (the default) or by
     * Bouncy Castle's record layer: {@code -Dfaultdisk.nbd.pskRecordInput=false}, for comparison.
     */
    private static final boolean RECORD_INPUT =
            Boolean.parseBoolean(System.getProperty("faultdisk.nbd.pskRecordInput", "true"));

    /** Whether TLS 1.3 is offered (the default) or only TLS 1.2: {@code -Dfaultdisk.nbd.pskTls13=false}. */
    private static final boolean TLS13 = Boolean.parseBoolean(System.getProperty("faultdisk.nbd.pskTls13", "true"));

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
        TlsServerProtocol protocol =
                new TlsServerProtocol(new KeptOpenInput(in), new KeptOpenOutput(plain.getOutputStream()));
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
        Server server = new Server(identities);
        try {
            protocol.accept(server);
        } catch (IOException e) {
            throw new javax.net.ssl.SSLException("PSK handshake failed: " + e.getMessage(), e);
        }
        plain.setSoTimeout(old);
        GcmRecordCipher gcm = server.crypto.gcm();
        // Bouncy Castle reads no further than the handshake's last record: the rest is the client's data.
        InputStream input = gcm != null && RECORD_INPUT ? new PskRecordInput(in, gcm) : protocol.getInputStream();
        OutputStream output = gcm != null ? new GcmOutput(protocol.getOutputStream(), gcm) : protocol.getOutputStream();
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

    /** Bouncy Castle's output, through which an idle connection gives back the array AES-GCM sends from. */
    private static final class GcmOutput extends OutputStream implements IdleBuffers {
        private final OutputStream out;
        private final GcmRecordCipher cipher;

        GcmOutput(OutputStream out, GcmRecordCipher cipher) {
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

    /**
     * The PSK suites in the server's order. TLS 1.3 first, AES-GCM first: GnuTLS's clients offer
     * it with ECDHE shares (secp256r1's first, which Bouncy Castle takes), so a client no longer
     * spends 4-8 ms on TLS 1.2's 2048-bit DHE and an nbdinfo run takes about half as long
     * (docs/BENCHMARKS.md, "This round (after d20a42f)"). In TLS 1.2 AES-GCM first: with the
     * JDK's AES-GCM a whole-disk copy ran 1.3-1.9x as fast as with CBC and HMAC, which GnuTLS
     * would choose, and GnuTLS offers AES-GCM with PSK only over DHE (about 4 ms more a connection
     * than ECDHE). Suites the JDK's ciphers lack are left out.
     */
    private static final class Server extends PSKTlsServer {
        private static final int[] SUITES = {
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_AES_256_GCM_SHA384,
            CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
            CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA,
            CipherSuite.TLS_DHE_PSK_WITH_AES_256_CBC_SHA384,
            CipherSuite.TLS_DHE_PSK_WITH_AES_128_CBC_SHA256,
            CipherSuite.TLS_DHE_PSK_WITH_AES_256_CBC_SHA,
            CipherSuite.TLS_DHE_PSK_WITH_AES_128_CBC_SHA,
        };
        /** How many of a client's identities a refusal names: a ClientHello may carry thousands. */
        private static final int NAMED_IDENTITIES = 4;

        private final PskCrypto crypto;
        /** TLS 1.3: the identities the client offered that the file lacks, and the one it has. */
        private String offered = "";

        private String matched;

        Server(TlsPSKIdentityManager identities) {
            this(identities, new PskCrypto(new SecureRandom()));
        }

        private Server(TlsPSKIdentityManager identities, PskCrypto crypto) {
            super(crypto, identities);
            this.crypto = crypto;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return TLS13 ? ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12) : ProtocolVersion.TLSv12.only();
        }

        /**
         * TLS 1.3's pre-shared key: the first identity the client offers that the file has, bound
         * to SHA-256 (GnuTLS binds an external key to it, RFC 9258's default).
         */
        @Override
        public TlsPSKExternal getExternalPSK(Vector identities) {
            StringBuilder names = new StringBuilder();
            int named = 0;
            for (Object offered : identities) {
                byte[] identity = ((PskIdentity) offered).getIdentity();
                byte[] key = pskIdentityManager.getPSK(identity);
                if (key != null) {
                    matched = printable(identity);
                    return new BasicTlsPSKExternal(identity, crypto.createSecret(key), PRFAlgorithm.tls13_hkdf_sha256);
                }
                if (named++ < NAMED_IDENTITIES) {
                    names.append(names.isEmpty() ? "" : ", ").append(printable(identity));
                }
            }
            if (named > NAMED_IDENTITIES) {
                names.append(" and ").append(named - NAMED_IDENTITIES).append(" more");
            }
            offered = names.toString();
            return null;
        }

        /**
         * In TLS 1.3 asked for only when no key was agreed (Bouncy Castle then looks for a
         * certificate, and would fail with internal_error): the alert and reason TLS 1.2 gives.
         */
        @Override
        public TlsCredentials getCredentials() throws IOException {
            if (TlsUtils.isTLSv13(context)) {
                if (matched != null) {
                    // RFC 8446, 4.2.11: a binder that does not validate.
                    throw new TlsFatalAlert(
                            AlertDescription.decrypt_error,
                            "the client's key for " + matched + " is not the key file's");
                }
                throw new TlsFatalAlert(
                        AlertDescription.unknown_psk_identity,
                        offered.isEmpty()
                                ? "the client offered no pre-shared key"
                                : "no key for the client's identity " + offered);
            }
            return super.getCredentials();
        }

        /** A client's identity for a message: quoted, printable ASCII, at most 64 characters. */
        private static String printable(byte[] identity) {
            StringBuilder out = new StringBuilder("'");
            for (int i = 0; i < Math.min(identity.length, 64); i++) {
                int b = identity[i] & 0xff;
                boolean plain = b >= 0x20 && b < 0x7f && b != '\\' && b != '\'';
                out.append(plain ? String.valueOf((char) b) : String.format("\\x%02x", b));
            }
            return out.append(identity.length > 64 ? "...'" : "'").toString();
        }

        @Override
        protected boolean preferLocalCipherSuites() {
            return true;
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return TlsUtils.getSupportedCipherSuites(getCrypto(), SUITES);
        }

        /** The version and suite agreed, named as the JDK names them ({@code "TLSv1.2 TLS_..."}). */
        String session() {
            var agreed = context.getSecurityParametersConnection();
            return agreed.getNegotiatedVersion().getName().replace("TLS ", "TLSv") + " "
                    + name(agreed.getCipherSuite());
        }

        /** {@link CipherSuite}'s constant for {@code suite}: its IANA name. */
        private static String name(int suite) {
            String name = SuiteNames.NAMES.get(suite);
            return name != null ? name : String.format("0x%04X", suite);
        }

        /**
         * The names of {@link CipherSuite}'s constants, read once: looked up by reflection for
         * each connection they took a seventh of a PSK server's samples (JFR).
         */
        private static final class SuiteNames {
            static final Map<Integer, String> NAMES = read();

            private static Map<Integer, String> read() {
                Map<Integer, String> names = new java.util.HashMap<>();
                for (java.lang.reflect.Field f : CipherSuite.class.getFields()) {
                    try {
                        if (f.getType() == int.class) {
                            names.putIfAbsent(f.getInt(null), f.getName());
                        }
                    } catch (IllegalAccessException e) {
                        break;
                    }
                }
                return Map.copyOf(names);
            }
        }
    }
}
