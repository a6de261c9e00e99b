package dev.faultdisk.nbd;

import java.io.IOException;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsAgreement;
import org.bouncycastle.tls.crypto.TlsECDomain;
import org.bouncycastle.tls.crypto.TlsSecret;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;

/**
 * X25519 for a PSK handshake by Bouncy Castle's RFC 7748 arithmetic, not the JDK's XDH that {@link
 * JcaTlsCrypto} would use: a key pair and an agreement cost about 115 µs against the JDK's 290
 * (docs/BENCHMARKS.md), on every connection's path. The secret goes back to the JDK's crypto, which
 * does the key schedule.
 */
final class BcX25519Domain implements TlsECDomain {
    /**
     * Whether X25519 is Bouncy Castle's with both kinds of TLS (here and {@link BcX25519Provider});
     * {@code -Dfaultdisk.tls.x25519=jdk} keeps the JDK's, for comparison.
     */
    static final boolean ENABLED = !"jdk".equals(System.getProperty("faultdisk.tls.x25519", "bc"));

    private final JcaTlsCrypto crypto;

    BcX25519Domain(JcaTlsCrypto crypto) {
        this.crypto = crypto;
    }

    @Override
    public TlsAgreement createECDH() {
        return new Agreement();
    }

    /** One handshake's ephemeral key and the peer's share. */
    private final class Agreement implements TlsAgreement {
        private final byte[] privateKey = new byte[X25519.SCALAR_SIZE];
        private byte[] peerValue;

        @Override
        public byte[] generateEphemeral() {
            X25519.generatePrivateKey(crypto.getSecureRandom(), privateKey);
            byte[] publicKey = new byte[X25519.POINT_SIZE];
            X25519.generatePublicKey(privateKey, 0, publicKey, 0);
            return publicKey;
        }

        @Override
        public void receivePeerValue(byte[] value) throws IOException {
            if (value == null || value.length != X25519.POINT_SIZE) {
                throw new TlsFatalAlert(AlertDescription.illegal_parameter);
            }
            peerValue = value;
        }

        @Override
        public TlsSecret calculateSecret() throws IOException {
            byte[] secret = new byte[X25519.POINT_SIZE];
            try {
                // false: the peer sent a point of small order, which gives the all-zero secret
                // (RFC 7748, section 6.1; RFC 8446, section 7.4.2 says to refuse it).
                if (!X25519.calculateAgreement(privateKey, 0, peerValue, 0, secret, 0)) {
                    throw new TlsFatalAlert(AlertDescription.illegal_parameter);
                }
                return crypto.createSecret(secret);
            } finally {
                Arrays.fill(secret, (byte) 0);
                Arrays.fill(privateKey, (byte) 0);
            }
        }
    }
}
