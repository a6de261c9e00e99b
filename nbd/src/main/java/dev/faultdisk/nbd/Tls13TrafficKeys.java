package dev.faultdisk.nbd;

import java.io.IOException;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.tls.SecurityParameters;
import org.bouncycastle.tls.crypto.TlsCryptoUtils;
import org.bouncycastle.tls.crypto.TlsSecret;

/**
 * One direction's TLS 1.3 record key and IV (RFC 8446, 7.3), from its traffic secret (after a
 * KeyUpdate, the secret's next generation: Bouncy Castle derives it, 7.2). The secret itself is
 * never extracted: Bouncy Castle destroys a secret once its bytes are taken.
 */
record Tls13TrafficKeys(TlsSecret secret, int hash, int keySize, SecretKey key, byte[] iv) {
    private static final byte[] NO_CONTEXT = new byte[0];
    static final int IV = 12;

    /**
     * The keys of the server's ({@code server}) or the client's traffic secret now in {@code
     * params}, the key named {@code keyAlgorithm} for the JDK's cipher ("AES", "ChaCha20").
     */
    static Tls13TrafficKeys of(SecurityParameters params, boolean server, int keySize, String keyAlgorithm)
            throws IOException {
        TlsSecret secret = server ? params.getTrafficSecretServer() : params.getTrafficSecretClient();
        if (secret == null) {
            throw new IOException("no TLS 1.3 traffic secret yet");
        }
        return derive(secret, params.getPRFCryptoHashAlgorithm(), keySize, keyAlgorithm);
    }

    /** The keys of {@code secret}, a traffic secret for {@code hash} (Bouncy Castle's hash id). */
    static Tls13TrafficKeys derive(TlsSecret secret, int hash, int keySize, String keyAlgorithm) throws IOException {
        byte[] key = TlsCryptoUtils.hkdfExpandLabel(secret, hash, "key", NO_CONTEXT, keySize)
                .extract();
        byte[] iv = TlsCryptoUtils.hkdfExpandLabel(secret, hash, "iv", NO_CONTEXT, IV)
                .extract();
        return new Tls13TrafficKeys(secret, hash, keySize, new SecretKeySpec(key, keyAlgorithm), iv);
    }

    /** RFC 8446, 5.3: the IV with the record's sequence number XORed into its last 8 bytes. */
    void nonce(long seqNo, byte[] into) {
        xorSequence(iv, seqNo, into);
    }

    /** {@code iv} (12 bytes) with {@code seqNo} XORed into its last 8, into {@code into} (RFC 8446, 5.3; RFC 7905). */
    static void xorSequence(byte[] iv, long seqNo, byte[] into) {
        System.arraycopy(iv, 0, into, 0, IV);
        for (int i = 0; i < 8; i++) {
            into[IV - 1 - i] ^= (byte) (seqNo >>> (8 * i));
        }
    }
}
