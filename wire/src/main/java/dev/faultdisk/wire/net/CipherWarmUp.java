package dev.faultdisk.wire.net;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals and opens AES-GCM records on a background thread when a server with TLS starts, so that
 * the JIT has compiled the JDK's AES-GCM (into the CPU's AES and carry-less multiply
 * instructions) before clients come. Left to the first clients, the compiler thread can be busy
 * for seconds with the handshakes' elliptic curves while the readers hold every CPU, and the
 * records meanwhile run in plain Java: six to eight times the CPU a request (docs/BENCHMARKS.md).
 * Once per process; about 40 MB each way, under a second.
 */
public final class CipherWarmUp {
    private static final int RECORD = 16 * 1024;
    private static final int ROUNDS = 1500;
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private CipherWarmUp() {}

    /** Starts the warm-up if it has not run in this process. */
    public static void start() {
        if (STARTED.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name("tls-warm-up").start(CipherWarmUp::run);
        }
    }

    private static void run() {
        try {
            for (int keyBytes : new int[] {16, 32}) { // AES-128 (PSK's DHE suites) and AES-256 (TLS 1.3's)
                seal(keyBytes);
            }
        } catch (GeneralSecurityException e) {
            // no AES-GCM here: TLS will say so at its first handshake
        }
    }

    private static void seal(int keyBytes) throws GeneralSecurityException {
        SecretKeySpec key = new SecretKeySpec(new byte[keyBytes], "AES");
        Cipher encrypt = Cipher.getInstance("AES/GCM/NoPadding");
        Cipher decrypt = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] plain = new byte[RECORD];
        byte[] sealed = new byte[RECORD + 16];
        byte[] opened = new byte[RECORD];
        byte[] nonce = new byte[12];
        byte[] aad = new byte[13];
        for (int i = 0; i < ROUNDS; i++) {
            nonce[11] = (byte) i;
            nonce[10] = (byte) (i >>> 8);
            GCMParameterSpec spec = new GCMParameterSpec(128, nonce);
            encrypt.init(Cipher.ENCRYPT_MODE, key, spec);
            encrypt.updateAAD(aad);
            decrypt.init(Cipher.DECRYPT_MODE, key, spec);
            decrypt.updateAAD(aad);
            if (i % 2 == 0) { // arrays, as the PSK records; buffers, as the JDK's own TLS
                int n = encrypt.doFinal(plain, 0, RECORD, sealed, 0);
                decrypt.doFinal(sealed, 0, n, opened, 0);
            } else {
                encrypt.doFinal(ByteBuffer.wrap(plain), ByteBuffer.wrap(sealed));
                decrypt.doFinal(ByteBuffer.wrap(sealed), ByteBuffer.wrap(opened));
            }
        }
    }
}
