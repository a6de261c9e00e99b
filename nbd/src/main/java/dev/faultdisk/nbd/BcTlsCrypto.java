package dev.faultdisk.nbd;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.PSSParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jcajce.util.DefaultJcaJceHelper;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.Tls13Verifier;
import org.bouncycastle.tls.crypto.TlsCipher;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.TlsECConfig;
import org.bouncycastle.tls.crypto.TlsECDomain;
import org.bouncycastle.tls.crypto.TlsStreamSigner;
import org.bouncycastle.tls.crypto.TlsStreamVerifier;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;
import org.bouncycastle.tls.crypto.impl.TlsBlockCipherImpl;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;

/**
 * Bouncy Castle's TLS with the JDK's ciphers and digests, which use the CPU's AES and SHA
 * instructions (Bouncy Castle's own are plain Java: whole-disk copies over PSK ran at half the
 * speed with them, docs/BENCHMARKS.md). TLS 1.2 and 1.3 records in AES-GCM and ChaCha20-Poly1305
 * go through {@link AeadRecordCipher}, in CBC through {@link ScratchCipher}: both make less garbage.
 */
final class BcTlsCrypto extends JcaTlsCrypto {
    /**
     * ChaCha20-Poly1305 by the JDK's cipher: Bouncy Castle's own check asks the JCA for it by its
     * provider's names ("ChaCha7539", "Poly1305"), which the JDK's lack, and would offer none.
     */
    private static final boolean CHACHA20 = AeadRecordCipher.Aead.CHACHA20_POLY1305.available();

    /** The AEAD record cipher of the connection, once the handshake chose one (one crypto a connection). */
    private volatile AeadRecordCipher aead;

    BcTlsCrypto(SecureRandom random) {
        super(new DefaultJcaJceHelper(), random, random);
    }

    /** The connection's AES-GCM or ChaCha20-Poly1305 record cipher, or null if another suite was agreed. */
    AeadRecordCipher aead() {
        return aead;
    }

    /**
     * X25519 by Bouncy Castle's arithmetic ({@link BcX25519Domain}), other groups the JDK's; {@code
     * -Dfaultdisk.tls.x25519=jdk} keeps the JDK's for X25519 too, for comparison.
     */
    @Override
    public TlsECDomain createECDomain(TlsECConfig config) {
        if (config.getNamedGroup() == NamedGroup.x25519 && BcX25519Domain.ENABLED) {
            return new BcX25519Domain(this);
        }
        return super.createECDomain(config);
    }

    @Override
    public TlsCipher createCipher(TlsCryptoParameters params, int encryption, int mac) throws IOException {
        ProtocolVersion version = params.getServerVersion();
        if (ProtocolVersion.TLSv12.equals(version) || ProtocolVersion.TLSv13.equals(version)) {
            try {
                int keySize = switch (encryption) {
                    case EncryptionAlgorithm.AES_128_GCM -> 16;
                    case EncryptionAlgorithm.AES_256_GCM -> 32;
                    default -> 0;
                };
                if (keySize > 0) {
                    aead = new AeadRecordCipher(params, AeadRecordCipher.Aead.AES_GCM, keySize);
                    return aead;
                }
                if (encryption == EncryptionAlgorithm.CHACHA20_POLY1305 && CHACHA20) {
                    aead = new AeadRecordCipher(params, AeadRecordCipher.Aead.CHACHA20_POLY1305, 32);
                    return aead;
                }
            } catch (GeneralSecurityException e) {
                throw new TlsFatalAlert(AlertDescription.internal_error, e);
            }
        }
        return super.createCipher(params, encryption, mac);
    }

    /**
     * ChaCha20-Poly1305 by the JDK's cipher, which Bouncy Castle's check misses ({@link #CHACHA20});
     * AES-CCM by Bouncy Castle's own ({@link CcmCipher}), which the JDK lacks.
     */
    @Override
    protected Boolean isSupportedEncryptionAlgorithm(int encryptionAlgorithm) {
        if (encryptionAlgorithm == EncryptionAlgorithm.CHACHA20_POLY1305) {
            return CHACHA20;
        }
        return CcmCipher.serves(encryptionAlgorithm) || super.isSupportedEncryptionAlgorithm(encryptionAlgorithm);
    }

    /** AES-CCM's records by {@link CcmCipher}; Bouncy Castle would ask the JDK for a CCM cipher it has not. */
    @Override
    protected TlsAEADCipherImpl createAEADCipher(String cipherName, String algorithm, int keySize, boolean encrypting)
            throws GeneralSecurityException {
        return cipherName.startsWith("AES/CCM/")
                ? new CcmCipher(encrypting)
                : super.createAEADCipher(cipherName, algorithm, keySize, encrypting);
    }

    /**
     * RSASSA-PSS by the JDK's name: Bouncy Castle asks for "SHA256WITHRSAANDMGF1" and the like,
     * its own provider's names, which the JDK's lack; the parameters it gives say the digest.
     */
    @Override
    protected TlsStreamSigner createStreamSigner(
            String algorithmName, AlgorithmParameterSpec parameter, PrivateKey privateKey, boolean needsRandom)
            throws IOException {
        return super.createStreamSigner(jdkName(algorithmName, parameter), parameter, privateKey, needsRandom);
    }

    @Override
    protected TlsStreamVerifier createStreamVerifier(
            String algorithmName, AlgorithmParameterSpec parameter, byte[] signature, PublicKey publicKey)
            throws IOException {
        return super.createStreamVerifier(jdkName(algorithmName, parameter), parameter, signature, publicKey);
    }

    @Override
    protected Tls13Verifier createTls13Verifier(
            String algorithmName, AlgorithmParameterSpec parameter, PublicKey publicKey) throws IOException {
        return super.createTls13Verifier(jdkName(algorithmName, parameter), parameter, publicKey);
    }

    private static String jdkName(String algorithmName, AlgorithmParameterSpec parameter) {
        return parameter instanceof PSSParameterSpec && algorithmName.endsWith("WITHRSAANDMGF1")
                ? "RSASSA-PSS"
                : algorithmName;
    }

    @Override
    protected TlsBlockCipherImpl createBlockCipher(String cipherName, String algorithm, int keySize, boolean encrypting)
            throws GeneralSecurityException {
        return new ScratchCipher(
                getHelper().createCipher(cipherName), algorithm, keySize, encrypting, getSecureRandom());
    }

    /**
     * A record's CBC encryption or decryption through an array of its own: Bouncy Castle asks for
     * it in place, where the JDK's cipher first copies the record to a new array, half of all the
     * garbage a PSK connection made (16 KiB a record). One per direction of a connection, used by
     * one thread at a time.
     */
    static final class ScratchCipher implements TlsBlockCipherImpl {
        private final Cipher cipher;
        private final String algorithm;
        private final int keySize;
        private final int mode;
        private final SecureRandom random;
        private SecretKey key;
        private byte[] scratch = new byte[0];

        ScratchCipher(Cipher cipher, String algorithm, int keySize, boolean encrypting, SecureRandom random) {
            this.cipher = cipher;
            this.algorithm = algorithm;
            this.keySize = keySize;
            this.mode = encrypting ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE;
            this.random = random;
        }

        @Override
        public void setKey(byte[] bytes, int offset, int length) {
            if (length != keySize) {
                throw new IllegalStateException("a key of " + length + " bytes for " + algorithm + "-" + keySize * 8);
            }
            key = new SecretKeySpec(bytes, offset, length, algorithm);
        }

        @Override
        public void init(byte[] iv, int offset, int length) {
            try {
                cipher.init(mode, key, new IvParameterSpec(iv, offset, length), random);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }

        @Override
        public int doFinal(byte[] input, int inputOffset, int length, byte[] output, int outputOffset)
                throws IOException {
            if (scratch.length < length) {
                scratch = new byte[length];
            }
            try {
                int n = cipher.doFinal(input, inputOffset, length, scratch, 0);
                System.arraycopy(scratch, 0, output, outputOffset, n);
                return n;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }

        @Override
        public int getBlockSize() {
            return cipher.getBlockSize();
        }
    }
}
