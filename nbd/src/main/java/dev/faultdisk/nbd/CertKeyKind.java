package dev.faultdisk.nbd;

import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureScheme;

/** What a key signs with, by its kind: the schemes it can use in TLS 1.3, and more in TLS 1.2. */
enum CertKeyKind {
    ECDSA_P256(SignatureScheme.ecdsa_secp256r1_sha256),
    ECDSA_P384(SignatureScheme.ecdsa_secp384r1_sha384),
    ECDSA_P521(SignatureScheme.ecdsa_secp521r1_sha512),
    RSA(SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512),
    ED25519(SignatureScheme.ed25519),
    ED448(SignatureScheme.ed448);

    private final int[] tls13;

    CertKeyKind(int... tls13) {
        this.tls13 = tls13;
    }

    /** Whether a key of this kind signs {@code scheme} in TLS 1.3 ({@code tls13}) or TLS 1.2. */
    boolean signs(int scheme, boolean tls13) {
        for (int s : this.tls13) {
            if (s == scheme) {
                return true;
            }
        }
        if (tls13) {
            return false;
        }
        // TLS 1.2: ECDSA with any hash on any curve, RSA in PKCS#1 v1.5 too (RFC 5246, 7.4.1.4.1).
        int signature = SignatureScheme.getSignatureAlgorithm(scheme);
        return switch (this) {
            case ECDSA_P256, ECDSA_P384, ECDSA_P521 ->
                signature == SignatureAlgorithm.ecdsa
                        && SignatureScheme.getHashAlgorithm(scheme) != HashAlgorithm.Intrinsic;
            case RSA -> signature == SignatureAlgorithm.rsa;
            default -> false;
        };
    }

    boolean rsa() {
        return this == RSA;
    }

    /** The kind of {@code key}, or null for one the handshake cannot sign with. */
    static CertKeyKind of(PrivateKey key) {
        if (key instanceof RSAPrivateKey && "RSA".equals(key.getAlgorithm())) {
            return RSA;
        }
        if (key instanceof ECPrivateKey ec) {
            String curve = ec.getParams().toString(); // the JDK's named curves begin with their name
            if (curve.startsWith("secp256r1")) {
                return ECDSA_P256;
            }
            if (curve.startsWith("secp384r1")) {
                return ECDSA_P384;
            }
            return curve.startsWith("secp521r1") ? ECDSA_P521 : null;
        }
        if (key instanceof EdECPrivateKey ed) {
            return switch (ed.getParams().getName()) {
                case "Ed25519" -> ED25519;
                case "Ed448" -> ED448;
                default -> null;
            };
        }
        return null;
    }
}
