package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The CBC cipher of PSK records: the JDK's results, in place, without a new array a record. */
class BcTlsCryptoTest {
    private static final int RECORD = 16_384 + 48; // a full record's body, its MAC and padding

    @Test
    void inPlaceEncryptionAndDecryptionGiveTheJdksResultWithoutARecordSizedArray() throws Exception {
        Random random = new Random(11);
        byte[] key = new byte[32];
        byte[] iv = new byte[16];
        random.nextBytes(key);
        random.nextBytes(iv);
        byte[] record = new byte[5 + RECORD]; // a header before the body, as Bouncy Castle lays it out
        random.nextBytes(record);
        byte[] plain = record.clone();

        Cipher jdk = Cipher.getInstance("AES/CBC/NoPadding");
        jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
        byte[] expected = jdk.doFinal(record, 5, RECORD);

        BcTlsCrypto.ScratchCipher encrypt = cipher(true, key);
        BcTlsCrypto.ScratchCipher decrypt = cipher(false, key);
        assertEquals(16, encrypt.getBlockSize());
        encrypt.init(iv, 0, iv.length);
        assertEquals(RECORD, encrypt.doFinal(record, 5, RECORD, record, 5));
        assertArrayEquals(expected, Arrays.copyOfRange(record, 5, record.length), "encrypted as the JDK does");
        assertArrayEquals(Arrays.copyOf(plain, 5), Arrays.copyOf(record, 5), "the header untouched");
        decrypt.init(iv, 0, iv.length);
        assertEquals(RECORD, decrypt.doFinal(record, 5, RECORD, record, 5));
        assertArrayEquals(plain, record, "and back");

        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100; i++) {
            encrypt.init(iv, 0, iv.length);
            encrypt.doFinal(record, 5, RECORD, record, 5);
        }
        long perRecord = (threads.getCurrentThreadAllocatedBytes() - before) / 100;
        assertTrue(perRecord < RECORD / 4, perRecord + " bytes allocated a record");
    }

    @Test
    void aKeyOfTheWrongSizeIsRefused() throws Exception {
        BcTlsCrypto.ScratchCipher c = cipher(true, new byte[32]);
        assertThrows(IllegalStateException.class, () -> c.setKey(new byte[16], 0, 16));
    }

    private static BcTlsCrypto.ScratchCipher cipher(boolean encrypting, byte[] key) throws Exception {
        BcTlsCrypto.ScratchCipher c = new BcTlsCrypto.ScratchCipher(
                Cipher.getInstance("AES/CBC/NoPadding"),
                "AES",
                key.length,
                encrypting,
                new java.security.SecureRandom());
        c.setKey(key, 0, key.length);
        return c;
    }
}
