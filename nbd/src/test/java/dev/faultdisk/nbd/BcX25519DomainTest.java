package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPublicKeySpec;
import javax.crypto.KeyAgreement;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsAgreement;
import org.bouncycastle.tls.crypto.TlsECConfig;
import org.junit.jupiter.api.Test;

/**
 * X25519 by Bouncy Castle's arithmetic agrees with the JDK's XDH on the same keys, both ways, and
 * refuses what RFC 8446 says to refuse: a share of the wrong length, a point giving the all-zero
 * secret.
 */
class BcX25519DomainTest {
    private final BcTlsCrypto crypto = new BcTlsCrypto(new SecureRandom(new byte[] {7}));

    @Test
    void agreesWithTheJdksXdh() throws Exception {
        // The JDK's own provider by name: an NBD server with certificates started earlier in this
        // JVM puts BcX25519Provider first, and "XDH" alone would then compare Bouncy Castle with itself.
        KeyPairGenerator generator = KeyPairGenerator.getInstance("XDH", "SunEC");
        generator.initialize(NamedParameterSpec.X25519);
        for (int i = 0; i < 20; i++) {
            KeyPair jdk = generator.generateKeyPair();
            TlsAgreement ours =
                    crypto.createECDomain(new TlsECConfig(NamedGroup.x25519)).createECDH();
            byte[] ourShare = ours.generateEphemeral();
            ours.receivePeerValue(littleEndian(((XECPublicKey) jdk.getPublic()).getU()));
            byte[] ourSecret = ours.calculateSecret().extract();

            KeyAgreement agreement = KeyAgreement.getInstance("XDH", "SunEC");
            agreement.init(jdk.getPrivate());
            agreement.doPhase(publicKey(ourShare), true);
            assertArrayEquals(agreement.generateSecret(), ourSecret, "agreement " + i);
        }
    }

    @Test
    void refusesAShareOfTheWrongLength() throws Exception {
        TlsAgreement agreement =
                crypto.createECDomain(new TlsECConfig(NamedGroup.x25519)).createECDH();
        agreement.generateEphemeral();
        for (int length : new int[] {0, 31, 33, 65}) {
            TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, () -> agreement.receivePeerValue(new byte[length]));
            assertEquals(AlertDescription.illegal_parameter, alert.getAlertDescription());
        }
    }

    @Test
    void refusesAPointGivingTheAllZeroSecret() throws Exception {
        // u = 0 and u = 1 are of small order: any scalar gives the all-zero result.
        for (int u : new int[] {0, 1}) {
            TlsAgreement agreement =
                    crypto.createECDomain(new TlsECConfig(NamedGroup.x25519)).createECDH();
            agreement.generateEphemeral();
            byte[] point = new byte[32];
            point[0] = (byte) u;
            agreement.receivePeerValue(point);
            TlsFatalAlert alert = assertThrows(TlsFatalAlert.class, agreement::calculateSecret);
            assertEquals(AlertDescription.illegal_parameter, alert.getAlertDescription(), "u = " + u);
        }
    }

    @Test
    void x25519IsBouncyCastlesOtherGroupsTheJdks() {
        assertEquals(
                BcX25519Domain.class,
                crypto.createECDomain(new TlsECConfig(NamedGroup.x25519)).getClass());
        assertEquals(
                "JceTlsECDomain",
                crypto.createECDomain(new TlsECConfig(NamedGroup.secp256r1))
                        .getClass()
                        .getSimpleName());
    }

    private static PublicKey publicKey(byte[] share) throws Exception {
        byte[] bigEndian = new byte[share.length];
        for (int i = 0; i < share.length; i++) {
            bigEndian[i] = share[share.length - 1 - i];
        }
        return KeyFactory.getInstance("XDH", "SunEC")
                .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, bigEndian)));
    }

    private static byte[] littleEndian(BigInteger u) {
        byte[] bigEndian = u.toByteArray();
        byte[] share = new byte[32];
        for (int i = 0; i < 32 && i < bigEndian.length; i++) {
            share[i] = bigEndian[bigEndian.length - 1 - i];
        }
        return share;
    }
}
