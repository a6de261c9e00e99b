package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.StreamChannel;
import dev.faultdisk.wire.net.TlsCredentials;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Vector;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ProtocolVersion;

/**
 * TLS with X.509 certificates by Bouncy Castle's handshake ({@link CertServer}) and the server's
 * own record path ({@link BcTlsChannel}), as with pre-shared keys: against the JDK's engine 13%
 * more connections a second (the median of nine rounds, 1.00-1.47x), and level on one
 * connection's reads and writes once a reply's records go out four to a system call
 * (docs/BENCHMARKS.md, "This round (after f04a959)"). The credentials are the {@link
 * TlsCredentials} the JDK's engine would use; keys the handshake cannot sign with (other than EC
 * on the NIST curves, RSA, Ed25519, Ed448), credentials with no directory, suites outside its
 * lists and {@code -Djdk.tls.server.cipherSuites} leave the server on the JDK's engine, as does
 * {@code -Dfaultdisk.nbd.x509Tls=jdk}.
 */
final class CertTls {
    private static final Logger LOG = Logger.getLogger(CertTls.class.getName());
    /**
     * The system property that chooses the handshake for certificates, read as each server
     * starts: "bc" (the default) Bouncy Castle's, "jdk" the JDK's engine.
     */
    static final String SWITCH = "faultdisk.nbd.x509Tls";

    /** TLS 1.3's, then TLS 1.2's for an EC or EdDSA key, then for an RSA key, in the server's order. */
    private static final int[] TLS13_SUITES = {
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_AES_128_CCM_SHA256,
    };

    private static final int[] ECDSA_SUITES = {
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
    };
    private static final int[] RSA_SUITES = {
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
        CipherSuite.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_DHE_RSA_WITH_AES_128_CCM,
        CipherSuite.TLS_DHE_RSA_WITH_AES_256_CCM,
    };

    private final PrivateKey key;
    private final CertKeyKind kind;
    private final List<byte[]> chain;
    private final X509TrustManager trust;
    private final Vector<X500Name> authorities;
    private final boolean verifyPeer;
    private final int[] suites;
    private final ProtocolVersion[] versions;
    private final int[] groups;
    private final JdkTlsPolicy policy;

    private CertTls(
            PrivateKey key,
            CertKeyKind kind,
            List<byte[]> chain,
            X509TrustManager trust,
            Vector<X500Name> authorities,
            boolean verifyPeer,
            int[] suites,
            ProtocolVersion[] versions,
            JdkTlsPolicy policy) {
        this.key = key;
        this.kind = kind;
        this.chain = chain;
        this.trust = trust;
        this.authorities = authorities;
        this.verifyPeer = verifyPeer;
        this.suites = suites;
        this.versions = versions;
        this.groups = policy.groups(TlsNames.GROUPS);
        this.policy = policy;
    }

    /**
     * The handshake for {@code credentials}, or null where the JDK's engine serves them: {@code
     * -Dfaultdisk.nbd.x509Tls=jdk}, a client's credentials or a server's with no directory (made
     * from an {@code SSLContext} alone), {@code -Djdk.tls.server.cipherSuites}, a key of another
     * kind or one the JDK's policy disables ({@link JdkTlsPolicy}), or suites named outside this
     * handshake's lists, none of them for this key, or none the policy leaves (said in the log).
     * Throws IllegalArgumentException where the JDK's engine serves and every suite named is this
     * handshake's alone (AES-CCM's): it would refuse every client.
     */
    static CertTls of(TlsCredentials credentials) throws IOException {
        CertTls tls = choose(credentials);
        if (tls == null
                && credentials.server()
                && !credentials.suites().isEmpty()
                && credentials.jdkSuites().isEmpty()) {
            // The JDK's engine would start with no suite and refuse every client.
            throw new IllegalArgumentException("the suites named (" + String.join(",", credentials.suites())
                    + ") are Bouncy Castle's handshake's alone, and the JDK's engine serves these credentials"
                    + " (-Dfaultdisk.nbd.x509Tls=jdk, or the reason in the log): name one the JDK has too");
        }
        return tls;
    }

    /**
     * The suites this handshake serves that the JDK has none of (AES-CCM's), by their IANA names,
     * less those the JDK's policy in force disables: what {@code --tls-ciphers} may name beyond
     * the JDK's own.
     */
    static List<String> suitesBeyondJdk() {
        JdkTlsPolicy policy = JdkTlsPolicy.current();
        int[] all = IntStream.concat(
                        IntStream.of(TLS13_SUITES),
                        IntStream.concat(IntStream.of(ECDSA_SUITES), IntStream.of(RSA_SUITES)))
                .toArray();
        return IntStream.of(policy.suites(all))
                .mapToObj(TlsNames::suite)
                .filter(name -> !policy.knows(name))
                .distinct()
                .toList();
    }

    private static CertTls choose(TlsCredentials credentials) throws IOException {
        // Credentials made from an SSLContext alone (no directory) have no key to hand over.
        if ("jdk".equals(System.getProperty(SWITCH)) || !credentials.server() || credentials.directory() == null) {
            return null;
        }
        if (System.getProperty("jdk.tls.server.cipherSuites") != null) {
            LOG.info("TLS: the JDK's engine serves the suites jdk.tls.server.cipherSuites names");
            return null;
        }
        TlsCredentials.Identity identity = credentials.identity();
        CertKeyKind kind = CertKeyKind.of(identity.key());
        if (kind == null) {
            LOG.log(
                    Level.INFO,
                    "TLS: the JDK''s engine serves a {0} key",
                    identity.key().getAlgorithm());
            return null;
        }
        JdkTlsPolicy policy = JdkTlsPolicy.current();
        String refused = policy.keyRefusal(identity.key(), kind);
        if (refused != null) {
            LOG.log(Level.INFO, "TLS: the JDK''s engine serves a key it refuses: {0}", refused);
            return null;
        }
        int[] listed = suites(credentials.suites(), kind);
        if (listed == null) {
            return null;
        }
        int[] suites = policy.suites(listed);
        ProtocolVersion[] versions = policy.versions(ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12));
        if (suites.length == 0 || versions.length == 0) {
            LOG.info("TLS: the JDK's engine serves a policy (jdk.tls.disabledAlgorithms) that leaves"
                    + " Bouncy Castle's handshake no suite or version");
            return null;
        }
        try {
            List<byte[]> chain = new ArrayList<>();
            for (X509Certificate c : identity.chain()) {
                chain.add(c.getEncoded());
            }
            Vector<X500Name> authorities = new Vector<>();
            for (X509Certificate ca : identity.authorities()) {
                authorities.add(
                        X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()));
            }
            X509TrustManager trust = null;
            for (TrustManager m :
                    TlsCredentials.trusting(identity.authorities()).getTrustManagers()) {
                if (m instanceof X509TrustManager x) {
                    trust = x;
                }
            }
            return new CertTls(
                    identity.key(),
                    kind,
                    List.copyOf(chain),
                    trust,
                    authorities,
                    credentials.verifyPeer(),
                    suites,
                    versions,
                    policy);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS credentials in " + credentials.directory() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The suites offered for a key of {@code kind}: {@code named} (the JDK's names, IANA's) in
     * their order, less the other kind of key's TLS 1.2 suites (which the JDK's engine would not
     * choose for this key either); else TLS 1.3's and the key's TLS 1.2 suites. Null if a name is
     * in none of these lists, or none is left for this key: the JDK's engine serves them.
     */
    private static int[] suites(List<String> named, CertKeyKind kind) {
        int[] own = kind.rsa() ? RSA_SUITES : ECDSA_SUITES;
        int[] other = kind.rsa() ? ECDSA_SUITES : RSA_SUITES;
        if (named.isEmpty()) {
            int[] all = java.util.Arrays.copyOf(TLS13_SUITES, TLS13_SUITES.length + own.length);
            System.arraycopy(own, 0, all, TLS13_SUITES.length, own.length);
            return all;
        }
        List<Integer> out = new ArrayList<>();
        for (String name : named) {
            int suite = TlsNames.suiteNamed(name);
            if (contains(TLS13_SUITES, suite) || contains(own, suite)) {
                out.add(suite);
            } else if (!contains(other, suite)) {
                LOG.log(Level.INFO, "TLS: the JDK''s engine serves the suite {0}", name);
                return null;
            }
        }
        if (out.isEmpty()) {
            LOG.info("TLS: the JDK's engine serves suites named for another kind of key only");
            return null;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean contains(int[] suites, int suite) {
        for (int s : suites) {
            if (s == suite) {
                return true;
            }
        }
        return false;
    }

    PrivateKey key() {
        return key;
    }

    CertKeyKind kind() {
        return kind;
    }

    /** The server's certificate chain, DER, its own first. */
    List<byte[]> chain() {
        return chain;
    }

    X509TrustManager trust() {
        return trust;
    }

    Vector<X500Name> authorities() {
        return authorities;
    }

    boolean verifyPeer() {
        return verifyPeer;
    }

    int[] suites() {
        return suites.clone();
    }

    /** TLS 1.3 and 1.2, less what the JDK's policy disables. */
    ProtocolVersion[] versions() {
        return versions.clone();
    }

    /** Bouncy Castle's groups ({@link TlsNames#GROUPS}) the JDK's policy leaves, in its order. */
    int[] groups() {
        return groups.clone();
    }

    /** Whether the JDK's policy allows a handshake signature in {@code scheme}. */
    boolean permitsSignature(int scheme) {
        return policy.permitsSignature(scheme);
    }

    /**
     * Runs the server side of the handshake on {@code plain} (after the STARTTLS ACK), {@code
     * early} being bytes already read from it; bounded by {@code timeoutMillis}.
     */
    StreamChannel handshake(Socket plain, byte[] early, int timeoutMillis) throws IOException {
        return BcTlsChannel.accept(plain, early, timeoutMillis, new CertServer(this), "TLS handshake failed: ");
    }
}
