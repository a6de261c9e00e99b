package dev.faultdisk.nbd;

import java.io.IOException;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.CCMBlockCipher;
import org.bouncycastle.crypto.modes.CCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.EncryptionAlgorithm;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;

/**
 * One direction of an AES-CCM record cipher (RFC 6655, RFC 8446's TLS_AES_128_CCM_SHA256) by
 * Bouncy Castle's own AES and CCM: the JDK has no CCM, and Bouncy Castle's JCA provider would
 * load hundreds of classes at a server's first handshake only to be asked whether it has one. Plain
 * Java, several times slower than the JDK's AES-GCM (docs/SECURITY.md): the suites come last in
 * the server's order, for clients that offer nothing else (GnuTLS's and OpenSSL's told so, which
 * nbdkit serves).
 */
final class CcmCipher implements TlsAEADCipherImpl {
    private final CCMModeCipher cipher = CCMBlockCipher.newInstance(AESEngine.newInstance());
    private final boolean encrypting;
    private KeyParameter key;

    CcmCipher(boolean encrypting) {
        this.encrypting = encrypting;
    }

    /** Whether {@code encryption} (Bouncy Castle's {@link EncryptionAlgorithm}) is one of AES-CCM's, which this cipher serves. */
    static boolean serves(int encryption) {
        return encryption == EncryptionAlgorithm.AES_128_CCM
                || encryption == EncryptionAlgorithm.AES_128_CCM_8
                || encryption == EncryptionAlgorithm.AES_256_CCM
                || encryption == EncryptionAlgorithm.AES_256_CCM_8;
    }

    @Override
    public void setKey(byte[] key, int keyOff, int keyLen) {
        this.key = new KeyParameter(key, keyOff, keyLen);
    }

    /** A record's nonce and the tag's length in bytes (16, or 8 for CCM_8). */
    @Override
    public void init(byte[] nonce, int macSize) {
        cipher.init(encrypting, new AEADParameters(key, macSize * 8, nonce, null));
    }

    @Override
    public int getOutputSize(int inputLength) {
        return cipher.getOutputSize(inputLength);
    }

    @Override
    public int doFinal(
            byte[] additionalData, byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset)
            throws IOException {
        if (additionalData != null && additionalData.length > 0) {
            cipher.processAADBytes(additionalData, 0, additionalData.length);
        }
        int length = cipher.processBytes(input, inputOffset, inputLength, output, outputOffset);
        try {
            return length + cipher.doFinal(output, outputOffset + length);
        } catch (InvalidCipherTextException e) {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        }
    }
}
