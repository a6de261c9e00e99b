package dev.faultdisk.nbd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CertificateEntry;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.ClientCertificateType;
import org.bouncycastle.tls.ClientHello;
import org.bouncycastle.tls.DefaultTlsCredentialedSigner;
import org.bouncycastle.tls.DefaultTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.SignatureScheme;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaDefaultTlsCredentialedSigner;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsEd25519Signer;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsEd448Signer;

/**
 * The server's end of a {@link CertTls} handshake: TLS 1.3 and 1.2, its certificate chain and a
 * signature in the first scheme of the client's that its key makes, and with {@code verifyPeer}
 * a client certificate checked by the JDK's PKIX trust manager against the authorities, as
 * {@code SSLEngine.setNeedClientAuth} would. X25519's key share taken where the client sent one,
 * as with pre-shared keys ({@link TlsNames#offeredGroups}).
 */
final class CertServer extends DefaultTlsServer implements BcTlsServer {
    private final CertTls tls;
    private final BcTlsCrypto crypto;
    private boolean x25519Offered;
    private int keyShare = -1;
    private String refusal = "";

    CertServer(CertTls tls) {
        this(tls, new BcTlsCrypto(new SecureRandom()));
    }

    private CertServer(CertTls tls, BcTlsCrypto crypto) {
        super(crypto);
        this.tls = tls;
        this.crypto = crypto;
    }

    @Override
    public void clientHelloReceived(ClientHello hello) {
        x25519Offered = TlsNames.sharesX25519(hello);
    }

    @Override
    public void notifySecureRenegotiation(boolean secure) throws IOException {
        BcTlsServer.checkRenegotiation(secure);
    }

    @Override
    public void keyShareChosen(int group) {
        keyShare = group;
    }

    @Override
    public String refusal() {
        return refusal;
    }

    @Override
    public AeadRecordCipher aead() {
        return crypto.aead();
    }

    @Override
    public String session() {
        return TlsNames.session(context.getSecurityParametersConnection(), keyShare);
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return tls.versions();
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return TlsUtils.getSupportedCipherSuites(getCrypto(), tls.suites());
    }

    @Override
    protected boolean preferLocalCipherSuites() {
        return true;
    }

    /** X25519 alone where a TLS 1.3 client sent a share of it, else the groups the JDK's policy leaves ({@link TlsNames#offeredGroups}). */
    @Override
    public int[] getSupportedGroups() {
        return TlsNames.offeredGroups(context, x25519Offered, tls.groups());
    }

    /** The chain and a signer in the first of the client's signature schemes the key makes. */
    @Override
    public TlsCredentials getCredentials() throws IOException {
        boolean tls13 = TlsUtils.isTLSv13(context);
        SignatureAndHashAlgorithm scheme = scheme(tls13);
        TlsCertificate[] chain = new TlsCertificate[tls.chain().size()];
        for (int i = 0; i < chain.length; i++) {
            chain[i] = crypto.createCertificate(tls.chain().get(i));
        }
        Certificate certificate;
        if (tls13) {
            CertificateEntry[] entries = new CertificateEntry[chain.length];
            for (int i = 0; i < chain.length; i++) {
                entries[i] = new CertificateEntry(chain[i], null);
            }
            certificate = new Certificate(TlsUtils.EMPTY_BYTES, entries);
        } else {
            certificate = new Certificate(chain);
        }
        TlsCryptoParameters parameters = new TlsCryptoParameters(context);
        // Bouncy Castle knows an EdDSA key by the name "Ed25519" or "Ed448"; the JDK's is named "EdDSA".
        return switch (tls.kind()) {
            case ED25519 ->
                new DefaultTlsCredentialedSigner(
                        parameters, new JcaTlsEd25519Signer(crypto, tls.key()), certificate, scheme);
            case ED448 ->
                new DefaultTlsCredentialedSigner(
                        parameters, new JcaTlsEd448Signer(crypto, tls.key()), certificate, scheme);
            default -> new JcaDefaultTlsCredentialedSigner(parameters, crypto, tls.key(), certificate, scheme);
        };
    }

    /**
     * The first of the client's signature schemes the key makes and the JDK's policy allows (not
     * SHA-1 in TLS 1.2 by JDK 25's); where a TLS 1.2 client names none, SHA-1 with the key's
     * algorithm (RFC 5246, 7.4.1.4.1) if the policy allows it.
     */
    private SignatureAndHashAlgorithm scheme(boolean tls13) throws IOException {
        Vector<?> offered = context.getSecurityParametersHandshake().getClientSigAlgs();
        if (offered == null && !tls13) {
            int sha1 = tls.kind().rsa() ? SignatureScheme.rsa_pkcs1_sha1 : SignatureScheme.ecdsa_sha1;
            offered = new Vector<>(List.of(SignatureScheme.getSignatureAndHashAlgorithm(sha1)));
        }
        boolean disallowed = false;
        if (offered != null) {
            for (Object o : offered) {
                SignatureAndHashAlgorithm a = (SignatureAndHashAlgorithm) o;
                int scheme = SignatureScheme.from(a);
                if (tls.kind().signs(scheme, tls13)) {
                    if (tls.permitsSignature(scheme)) {
                        return a;
                    }
                    disallowed = true;
                }
            }
        }
        refusal = "; the client accepts no signature a " + tls.kind() + " key makes"
                + (disallowed ? " that the JDK's policy allows (jdk.tls.disabledAlgorithms)" : "");
        throw new TlsFatalAlert(AlertDescription.handshake_failure, "no signature scheme in common");
    }

    /**
     * With {@code verifyPeer}: a certificate, by the authorities' names, signed over the handshake
     * in a scheme the server checks and the JDK's policy allows.
     */
    @Override
    public CertificateRequest getCertificateRequest() throws IOException {
        if (!tls.verifyPeer()) {
            return null;
        }
        Vector<SignatureAndHashAlgorithm> schemes = new Vector<>();
        for (Object o : TlsUtils.getDefaultSupportedSignatureAlgorithms(context)) {
            SignatureAndHashAlgorithm a = (SignatureAndHashAlgorithm) o;
            if (tls.permitsSignature(SignatureScheme.from(a))) {
                schemes.add(a);
            }
        }
        if (TlsUtils.isTLSv13(context)) {
            return new CertificateRequest(TlsUtils.EMPTY_BYTES, schemes, null, tls.authorities());
        }
        short[] types = {ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign};
        return new CertificateRequest(types, schemes, tls.authorities());
    }

    /**
     * A client's chain, checked by the JDK's trust manager (Bouncy Castle checks its signature
     * over the handshake); none, or one the authorities did not sign, ends the handshake.
     */
    @Override
    public void notifyClientCertificate(Certificate certificate) throws IOException {
        if (!tls.verifyPeer()) {
            return;
        }
        if (certificate == null || certificate.isEmpty()) {
            refusal = "; the client sent no certificate";
            throw new TlsFatalAlert(
                    TlsUtils.isTLSv13(context)
                            ? AlertDescription.certificate_required
                            : AlertDescription.handshake_failure,
                    "a client certificate is required");
        }
        X509Certificate[] chain = new X509Certificate[certificate.getLength()];
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (int i = 0; i < chain.length; i++) {
                chain[i] = (X509Certificate) factory.generateCertificate(
                        new ByteArrayInputStream(certificate.getCertificateAt(i).getEncoded()));
            }
            tls.trust().checkClientTrusted(chain, chain[0].getPublicKey().getAlgorithm());
        } catch (CertificateException e) {
            refusal = "; the client's certificate is not trusted: " + e.getMessage();
            throw new TlsFatalAlert(AlertDescription.bad_certificate, "the client's certificate is not trusted", e);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }
}
