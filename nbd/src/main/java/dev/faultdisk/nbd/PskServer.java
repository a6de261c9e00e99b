package dev.faultdisk.nbd;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ClientHello;
import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.PSKTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsExtensionsUtils;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.TlsUtils;

/**
 * The server's end of a {@link PskTls} handshake: its keys by identity, the versions and suites
 * it offers, and the reason it gives a client without the key. The suites in its order: TLS 1.3
 * first, AES-GCM first: GnuTLS's clients offer
 * it with ECDHE shares (secp256r1's first, which Bouncy Castle takes), so a client no longer
 * spends 4-8 ms on TLS 1.2's 2048-bit DHE and an nbdinfo run takes about half as long
 * (docs/BENCHMARKS.md, "This round (after d20a42f)"). In TLS 1.2 AES-GCM first: with the
 * JDK's AES-GCM a whole-disk copy ran 1.3-1.9x as fast as with CBC and HMAC, which GnuTLS
 * would choose, and GnuTLS offers AES-GCM with PSK only over DHE (about 4 ms more a connection
 * than ECDHE). ChaCha20-Poly1305 after AES-GCM in both versions, for a client that offers no
 * AES-GCM (GnuTLS's on a machine without AES instructions prefers it, and nbdkit serves it): its
 * records go through the server's own record path over the JDK's cipher, as AES-GCM's do
 * ({@link AeadRecordCipher}). AES-CCM, which the JDK lacks, by Bouncy Castle's own ({@link
 * CcmCipher}, plain Java) after the others of its version and key exchange. In TLS 1.3 only the
 * suites on SHA-256: a key is bound to SHA-256 ({@link PskTls#tls13Key}), and a suite on SHA-384
 * chosen first (as AES-256-GCM was, for a client that refused AES-128-GCM) left no key to agree
 * on, where ChaCha20-Poly1305 serves. Last, TLS 1.2's suites on the key alone (no ECDHE or DHE
 * share, so no forward secrecy): only a client offering nothing else gets one (OpenSSL's told
 * {@code -cipher PSK-AES128-GCM-SHA256}), as nbdkit's GnuTLS serves it; a policy entry {@code
 * TLS_PSK_*} in {@code jdk.tls.disabledAlgorithms} refuses them.
 */
final class PskServer extends PSKTlsServer implements BcTlsServer {
    /** TLS 1.3 and 1.2 (the default) or only TLS 1.2: {@code -Dfaultdisk.nbd.pskTls13=false}. */
    static final ProtocolVersion[] VERSIONS = Boolean.parseBoolean(System.getProperty("faultdisk.nbd.pskTls13", "true"))
            ? ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12)
            : ProtocolVersion.TLSv12.only();

    /** In the server's order of preference (package-private for the offer check's test). */
    static final int[] SUITES = {
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_AES_128_CCM_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_CBC_SHA384,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_CCM,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_CCM,
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_CBC_SHA384,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM,
    };
    /** How many of a client's identities a refusal names: a ClientHello may carry thousands. */
    private static final int NAMED_IDENTITIES = 4;

    private final BcTlsCrypto crypto;
    /** {@link #VERSIONS}, {@link #SUITES} and {@link TlsNames#GROUPS} less what the JDK's policy disables. */
    private final PskTls.Offer offer;
    /** TLS 1.3: the identities the client offered that the file lacks, and the one it has. */
    private String offered = "";

    private String matched;
    /** TLS 1.3: whether the client sent an X25519 key share. */
    private boolean x25519Offered;
    /** The client's ClientHello ({@link BcServerProtocol}); null before it. */
    private ClientHello clientHello;
    /** TLS 1.3: the group of the key share chosen, for {@link #session}; -1 before. */
    private int keyShare = -1;

    PskServer(TlsPSKIdentityManager identities, PskTls.Offer offer) {
        this(identities, offer, new BcTlsCrypto(new SecureRandom()));
    }

    private PskServer(TlsPSKIdentityManager identities, PskTls.Offer offer, BcTlsCrypto crypto) {
        super(crypto, identities);
        this.crypto = crypto;
        this.offer = offer;
    }

    /** What the client offered ({@link BcServerProtocol}): kept for a refusal's reason, its key shares read now. */
    @Override
    public void clientHelloReceived(ClientHello hello) {
        clientHello = hello;
        x25519Offered = TlsNames.sharesX25519(hello);
    }

    /**
     * A reason for a failed handshake ("; ..."), from the client's offer ({@link PskOfferCheck}),
     * or "" if none is known: worked out only for a handshake that failed.
     */
    @Override
    public String refusal() {
        if (clientHello == null) {
            return "";
        }
        try {
            Hashtable<?, ?> extensions = clientHello.getExtensions();
            String why = PskOfferCheck.whyUnusable(
                    offer.tls13(),
                    offer.suites(),
                    clientHello.getCipherSuites(),
                    clientHello.getVersion(),
                    TlsExtensionsUtils.getSupportedVersionsExtensionClient(extensions),
                    TlsExtensionsUtils.getPSKKeyExchangeModesExtension(extensions),
                    TlsExtensionsUtils.getSupportedGroupsExtension(extensions),
                    offer.groups());
            return why.isEmpty() ? "" : "; " + why;
        } catch (IOException e) {
            return ""; // a malformed extension: Bouncy Castle's alert says so
        }
    }

    @Override
    public void notifySecureRenegotiation(boolean secure) throws IOException {
        BcTlsServer.checkRenegotiation(secure);
    }

    @Override
    public void keyShareChosen(int group) {
        keyShare = group;
    }

    /** X25519 alone where a TLS 1.3 client sent a share of it, else the groups the JDK's policy leaves ({@link TlsNames#offeredGroups}). */
    @Override
    public int[] getSupportedGroups() {
        return TlsNames.offeredGroups(context, x25519Offered, offer.groups().clone());
    }

    /** The versions the policy leaves (Bouncy Castle asks before the ClientHello, and keeps the answer). */
    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return offer.versions().clone();
    }

    /**
     * Asked once the ClientHello is in: the versions the policy leaves, but TLS 1.2 alone to a
     * client that offers TLS 1.3 without any of this server's TLS 1.3 suites (AES-256-GCM alone,
     * on SHA-384, which no key here is bound to), as GnuTLS's servers (nbdkit's) serve it, rather
     * than refusing it; and to one whose only TLS 1.3 suite here is AES-CCM ({@link CcmCipher},
     * plain Java) where it offers TLS 1.2 in AES-GCM or ChaCha20-Poly1305 (GnuTLS's told
     * {@code -AES-128-GCM:-CHACHA20-POLY1305}: TLS 1.2's AES-256-GCM then).
     */
    @Override
    public ProtocolVersion[] getProtocolVersions() {
        if (clientHello != null
                && offer.tls13()
                && Arrays.asList(offer.versions()).contains(ProtocolVersion.TLSv12)) {
            int[] offered = clientHello.getCipherSuites();
            int tls13 = firstTls13(offered);
            if (tls13 < 0
                    || (CcmCipher.serves(TlsUtils.getEncryptionAlgorithm(tls13))
                            && offersTls12GcmOrChaCha20(offered))) {
                return ProtocolVersion.TLSv12.only();
            }
        }
        return offer.versions().clone();
    }

    /** This server's first TLS 1.3 suite that the client offers, or -1. */
    private int firstTls13(int[] offered) {
        for (int suite : offer.suites()) {
            if (TlsNames.tls13(suite) && offers(offered, suite)) {
                return suite;
            }
        }
        return -1;
    }

    /** Whether the client offers one of this server's TLS 1.2 suites in AES-GCM or ChaCha20-Poly1305. */
    private boolean offersTls12GcmOrChaCha20(int[] offered) {
        for (int suite : offer.suites()) {
            int encryption = TlsUtils.getEncryptionAlgorithm(suite);
            boolean aead = encryption == EncryptionAlgorithm.AES_128_GCM
                    || encryption == EncryptionAlgorithm.AES_256_GCM
                    || encryption == EncryptionAlgorithm.CHACHA20_POLY1305;
            if (aead && !TlsNames.tls13(suite) && offers(offered, suite)) {
                return true;
            }
        }
        return false;
    }

    private static boolean offers(int[] offered, int suite) {
        return offered != null && org.bouncycastle.util.Arrays.contains(offered, suite);
    }

    /** TLS 1.3's pre-shared key: the first identity the client offers that the file has. */
    @Override
    public TlsPSKExternal getExternalPSK(Vector identities) {
        StringBuilder names = new StringBuilder();
        int named = 0;
        for (Object offered : identities) {
            byte[] identity = ((PskIdentity) offered).getIdentity();
            byte[] key = pskIdentityManager.getPSK(identity);
            if (key != null) {
                matched = printable(identity);
                return PskTls.tls13Key(crypto, identity, key);
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
                        AlertDescription.decrypt_error, "the client's key for " + matched + " is not the key file's");
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
        return TlsUtils.getSupportedCipherSuites(getCrypto(), offer.suites());
    }

    @Override
    public AeadRecordCipher aead() {
        return crypto.aead();
    }

    @Override
    public String session() {
        return TlsNames.session(context.getSecurityParametersConnection(), keyShare);
    }
}
