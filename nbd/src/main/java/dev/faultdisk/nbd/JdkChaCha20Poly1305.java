package dev.faultdisk.nbd;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;

/**
 * One direction of ChaCha20-Poly1305 (RFC 8439) for Bouncy Castle's record layer, by the JDK's
 * cipher: Bouncy Castle's own JCA code asks for the algorithms by its provider's names
 * ("ChaCha7539", "Poly1305"), which the JDK's providers do not have, so with the JDK's crypto it
 * would offer no ChaCha20 at all. The record layer gives each record its own nonce (RFC 7905's and
 * RFC 8446's: the IV with the sequence number XORed in) and calls {@link #init} before each.
 */
final class JdkChaCha20Poly1305 implements TlsAEADCipherImpl {
    static final String ALGORITHM = "ChaCha20-Poly1305";
    private static final int KEY_SIZE = 32;
    private static final int TAG_SIZE = 16;

    private final Cipher cipher;
    private final int mode;
    private SecretKeySpec key;

    JdkChaCha20Poly1305(boolean encrypting) throws NoSuchAlgorithmException, NoSuchPaddingException {
        this.cipher = Cipher.getInstance(ALGORITHM);
        this.mode = encrypting ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE;
    }

    /** Whether this JDK has the cipher (every JDK since 11 does). */
    static boolean available() {
        try {
            Cipher.getInstance(ALGORITHM);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    @Override
    public void setKey(byte[] bytes, int offset, int length) {
        if (length != KEY_SIZE) {
            throw new IllegalStateException("a ChaCha20 key of " + length + " bytes, not 32");
        }
        key = new SecretKeySpec(bytes, offset, length, "ChaCha20");
    }

    @Override
    public void init(byte[] nonce, int macSize) throws IOException {
        if (macSize != TAG_SIZE) {
            throw new TlsFatalAlert(AlertDescription.internal_error, "a Poly1305 tag of " + macSize + " bytes");
        }
        try {
            cipher.init(mode, key, new IvParameterSpec(nonce));
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    @Override
    public int getOutputSize(int inputLength) {
        return mode == Cipher.ENCRYPT_MODE ? inputLength + TAG_SIZE : Math.max(0, inputLength - TAG_SIZE);
    }

    @Override
    public int doFinal(
            byte[] additionalData, byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset)
            throws IOException {
        try {
            if (additionalData != null) {
                cipher.updateAAD(additionalData);
            }
            return cipher.doFinal(input, inputOffset, inputLength, output, outputOffset);
        } catch (AEADBadTagException e) {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        } catch (GeneralSecurityException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }
}
