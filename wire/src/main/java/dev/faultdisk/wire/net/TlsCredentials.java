package dev.faultdisk.wire.net;

import dev.faultdisk.wire.FileErrors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * X.509 credentials from a directory laid out as nbdkit, qemu-nbd ({@code tls-creds-x509 dir=})
 * and libnbd ({@code tls-certificates=}) lay it out: {@code ca-cert.pem}, and for a server
 * {@code server-cert.pem} + {@code server-key.pem}, for a client optionally {@code
 * client-cert.pem} + {@code client-key.pem}. Keys are unencrypted PKCS#8 PEM ({@code BEGIN
 * PRIVATE KEY}, what {@code openssl req -nodes} writes). TLS 1.2 and 1.3 only.
 *
 * @param context    the TLS context built from the files
 * @param server     whether this is the server end
 * @param verifyPeer for a server: whether a client must present a certificate signed by the CA
 *                   (nbdkit's {@code --tls-verify-peer}); without it client certificates are not
 *                   asked for
 * @param directory  where the files came from, for messages
 * @param suites     for a server: the cipher suites it accepts, in the order it prefers them (its
 *                   order wins); empty for the JDK's suites with AES-128-GCM ahead of AES-256-GCM
 *                   ({@link #preferred})
 */
public record TlsCredentials(
        SSLContext context, boolean server, boolean verifyPeer, Path directory, List<String> suites) {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** Set, the JDK's own server suites and order stand ({@link #preferred} leaves them be). */
    private static final String JDK_SERVER_SUITES = "jdk.tls.server.cipherSuites";

    private static final char[] NO_PASSWORD = new char[0];
    /**
     * Whether a server's sessions run on an {@link SSLEngine} ({@link EngineTls}, the default), or
     * on the JDK's {@code SSLSocket}, which keeps its record buffers for the connection's life:
     * {@code -Dfaultdisk.tls.engine=false}, for comparison.
     */
    private static final boolean ENGINE = Boolean.parseBoolean(System.getProperty("faultdisk.tls.engine", "true"));

    public TlsCredentials {
        suites = List.copyOf(suites);
    }

    /** Credentials with the JDK's suites, AES-128-GCM first ({@link #preferred}). */
    public TlsCredentials(SSLContext context, boolean server, boolean verifyPeer, Path directory) {
        this(context, server, verifyPeer, directory, List.of());
    }

    /**
     * These credentials accepting only {@code names}, preferred in that order (spaces around a name,
     * empty names and repeats left out). A name that is not
     * one of the JDK's suites enabled by default (disabled ones included: a client could not agree
     * on them) is refused, naming the suites it could be.
     */
    public TlsCredentials withSuites(List<String> names) {
        return withSuites(names, List.of());
    }

    /**
     * As {@link #withSuites(List)}, also taking the names in {@code servedBeyondJdk}: suites the
     * server's own handshake serves that the JDK has none of (AES-CCM's, by their IANA names). The
     * JDK's engine, where it serves these credentials, leaves them out ({@link #jdkSuites}).
     */
    public TlsCredentials withSuites(List<String> names, Collection<String> servedBeyondJdk) {
        List<String> usable = Stream.concat(
                        Stream.of(context.getDefaultSSLParameters().getCipherSuites())
                                .filter(n -> !n.endsWith("_SCSV")), // a signal, not a suite to agree on
                        servedBeyondJdk.stream())
                .distinct()
                .toList();
        // As a user types a list: spaces around names and empty entries are not suites.
        List<String> named = names.stream()
                .map(String::strip)
                .filter(n -> !n.isEmpty())
                .distinct()
                .toList();
        if (named.isEmpty()) {
            throw new IllegalArgumentException("no cipher suite named; the usable ones: " + String.join(",", usable));
        }
        for (String name : named) {
            if (!usable.contains(name)) {
                throw new IllegalArgumentException("unknown or disabled cipher suite '" + name + "'; the usable ones: "
                        + String.join(",", usable));
            }
        }
        return new TlsCredentials(context, server, verifyPeer, directory, named);
    }

    /** The {@link #suites} named that the JDK's engine knows and enables, in their order. */
    public List<String> jdkSuites() {
        List<String> enabled = List.of(context.getDefaultSSLParameters().getCipherSuites());
        return suites.stream().filter(enabled::contains).toList();
    }

    /**
     * The suites a server end offers, {@code enabled} being the JDK's: {@link #suites} if named
     * (those of them in {@code enabled}: AES-CCM's are Bouncy Castle's handshake's alone), else the
     * JDK's with each AES-256-GCM suite and its AES-128-GCM twin (same key exchange)
     * swapped. Why: each end decrypts every byte it reads, and on two CPUs the client is the busy
     * end; fio spent 2-4% less CPU a MiB over AES-128-GCM (docs/BENCHMARKS.md). AES-128-GCM is
     * TLS 1.3's mandatory suite; nbdkit and qemu-nbd (GnuTLS) agree on AES-256-GCM.
     */
    String[] preferred(String[] enabled) {
        if (!suites.isEmpty()) {
            List<String> known = List.of(enabled);
            return suites.stream().filter(known::contains).toArray(String[]::new);
        }
        String[] order = enabled.clone();
        if (System.getProperty(JDK_SERVER_SUITES) != null) {
            return order;
        }
        List<String> names = List.of(enabled);
        for (int i = 0; i < order.length; i++) {
            if (order[i].endsWith("_AES_256_GCM_SHA384")) {
                int twin = names.indexOf(order[i].replace("_AES_256_GCM_SHA384", "_AES_128_GCM_SHA256"));
                if (twin > i) {
                    String first = order[i];
                    order[i] = order[twin];
                    order[twin] = first;
                }
            }
        }
        return order;
    }

    /**
     * A server end's parameters, from its engine's or socket's: TLS 1.2 and 1.3, a client
     * certificate if {@link #verifyPeer}, the {@link #preferred} suites in the server's order.
     */
    private SSLParameters serverParameters(SSLParameters params) {
        params.setProtocols(PROTOCOLS);
        params.setNeedClientAuth(verifyPeer);
        params.setCipherSuites(preferred(params.getCipherSuites()));
        params.setUseCipherSuitesOrder(true);
        return params;
    }

    /** The server end: {@code ca-cert.pem}, {@code server-cert.pem}, {@code server-key.pem} in {@code dir}. */
    public static TlsCredentials server(Path dir, boolean verifyPeer) throws IOException {
        return load(dir, "server", true, verifyPeer);
    }

    /** The client end: {@code ca-cert.pem}, and {@code client-cert.pem} + {@code client-key.pem} if both exist. */
    public static TlsCredentials client(Path dir) throws IOException {
        return load(dir, "client", false, true);
    }

    private static TlsCredentials load(Path dir, String role, boolean server, boolean verifyPeer) throws IOException {
        Path ca = dir.resolve("ca-cert.pem");
        Path cert = dir.resolve(role + "-cert.pem");
        Path key = dir.resolve(role + "-key.pem");
        try {
            TrustManagerFactory tmf = trusting(certificates(ca));
            KeyManagerFactory kmf = null;
            if (server || (Files.exists(cert) && Files.exists(key))) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                List<Certificate> chain = certificates(cert);
                keys.setKeyEntry(role, privateKey(key), NO_PASSWORD, chain.toArray(Certificate[]::new));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, NO_PASSWORD);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return new TlsCredentials(context, server, verifyPeer, dir);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS credentials in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A server's private key, its certificate chain (its own first) and the authorities it trusts
     * for client certificates, read again from {@link #directory}: for a TLS implementation other
     * than the JDK's, which the {@link #context} cannot hand them to.
     */
    public Identity identity() throws IOException {
        if (!server) {
            throw new IllegalStateException("a client's credentials have no server identity");
        }
        try {
            List<X509Certificate> chain = x509(certificates(directory.resolve("server-cert.pem")));
            List<X509Certificate> authorities = x509(certificates(directory.resolve("ca-cert.pem")));
            return new Identity(privateKey(directory.resolve("server-key.pem")), chain, authorities);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS credentials in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** What {@link #identity} reads: a key, its chain (its own certificate first), the trusted CAs. */
    public record Identity(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> authorities) {
        public Identity {
            chain = List.copyOf(chain);
            authorities = List.copyOf(authorities);
        }
    }

    private static List<X509Certificate> x509(List<Certificate> certificates) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : certificates) {
            if (!(c instanceof X509Certificate x)) {
                throw new IOException("not an X.509 certificate: " + c.getType());
            }
            out.add(x);
        }
        return out;
    }

    /**
     * The JDK's PKIX trust managers for {@code authorities}: what a TLS context checks a peer's
     * chain with, and what a server checks client certificates with outside one.
     */
    public static TrustManagerFactory trusting(List<? extends Certificate> authorities)
            throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (Certificate c : authorities) {
            trust.setCertificateEntry("ca" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf;
    }

    /** The file's bytes; one that cannot be read is an error saying which and why. */
    private static byte[] read(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("TLS credentials: cannot read " + file + ": " + FileErrors.reason(e), e);
        }
    }

    private static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = new ByteArrayInputStream(read(file))) {
            List<Certificate> list =
                    new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (list.isEmpty()) {
                throw new IOException("TLS credentials: no certificate in " + file);
            }
            return list;
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String pem = new String(read(file), StandardCharsets.US_ASCII);
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IOException(file + " is not an unencrypted PKCS#8 key (BEGIN PRIVATE KEY); convert it with"
                    + " openssl pkcs8 -topk8 -nocrypt -in KEY -out " + file.getFileName());
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
        GeneralSecurityException last = null;
        for (String algorithm : List.of("EC", "RSA", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new IOException(file + ": not an EC, RSA or EdDSA key", last);
    }

    /**
     * Starts TLS on a connected socket (STARTTLS: the plaintext exchange is over), {@code consumed}
     * being bytes already read from it. The handshake runs before this returns; a slow or silent
     * peer is bounded by {@code timeoutMillis}.
     */
    public SSLSocket handshake(Socket plain, byte[] consumed, String peerHost, int timeoutMillis) throws IOException {
        return handshake(plain, consumed, peerHost, timeoutMillis, null);
    }

    /**
     * As {@link #handshake}, returning the session as a channel. A server end reads the socket
     * through a {@link BurstInput} (given to the TLS socket as the input it "consumed", which then
     * never ends before the socket does), so its reads take whole bursts of records.
     */
    public StreamChannel secure(Socket plain, byte[] consumed, String peerHost, int timeoutMillis) throws IOException {
        if (server && ENGINE) {
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(false);
            engine.setSSLParameters(serverParameters(engine.getSSLParameters()));
            return EngineTls.accept(engine, plain, consumed, timeoutMillis);
        }
        BurstInput raw = server ? new BurstInput(consumed, plain.getInputStream()) : null;
        SSLSocket tls = handshake(plain, consumed, peerHost, timeoutMillis, raw);
        String session = tls.getSession().getProtocol() + " " + tls.getSession().getCipherSuite();
        return new StreamChannel(tls.getInputStream(), tls.getOutputStream(), tls, raw, session)
                .endingOutputWith(tls::shutdownOutput); // close_notify, then the socket's FIN
    }

    private SSLSocket handshake(Socket plain, byte[] consumed, String peerHost, int timeoutMillis, BurstInput raw)
            throws IOException {
        SSLSocket tls;
        if (server) {
            InputStream input = raw != null ? raw : consumed.length == 0 ? null : new ByteArrayInputStream(consumed);
            tls = (SSLSocket) context.getSocketFactory().createSocket(plain, input, true);
            tls.setUseClientMode(false);
            tls.setSSLParameters(serverParameters(tls.getSSLParameters()));
        } else {
            tls = (SSLSocket) context.getSocketFactory().createSocket(plain, peerHost, plain.getPort(), true);
            tls.setUseClientMode(true);
            if (peerHost != null) {
                var params = tls.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS"); // the server's name must be in its certificate
                tls.setSSLParameters(params);
            }
        }
        tls.setEnabledProtocols(PROTOCOLS);
        ChannelSocket.handshakeWithin(plain, timeoutMillis, tls::startHandshake);
        return tls;
    }
}
