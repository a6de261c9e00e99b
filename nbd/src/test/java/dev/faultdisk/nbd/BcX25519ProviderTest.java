package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Security;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Random;
import javax.crypto.KeyAgreement;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider the JDK's TLS finds first for X25519: its keys agree with the JDK's own both ways,
 * their encodings are the JDK's, X448 still goes to the JDK, and a point of small order is refused.
 */
class BcX25519ProviderTest {
    @BeforeAll
    static void install() {
        BcX25519Provider.install();
    }

    @Test
    void isFirstForX25519AndLeavesX448ToTheJdk() throws Exception {
        assertEquals(BcX25519Provider.NAME, Security.getProviders()[0].getName());
        x25519Pair(); // asserts the provider
        KeyPairGenerator x448 = KeyPairGenerator.getInstance("XDH");
        x448.initialize(NamedParameterSpec.X448);
        KeyPair pair = x448.generateKeyPair();
        assertEquals("SunEC", x448.getProvider().getName());
        KeyAgreement agreement = KeyAgreement.getInstance("XDH");
        agreement.init(pair.getPrivate());
        assertEquals("SunEC", agreement.getProvider().getName());
    }

    @Test
    void anNbdServerWithCertificatesPutsItFirstForTheJdksTls(@TempDir Path dir) throws Exception {
        Security.removeProvider(BcX25519Provider.NAME);
        long before = BcX25519Provider.AGREEMENTS.sum();
        try (TlsLocalServer server = new TlsLocalServer("x509-jdk", dir, "1M");
                RawNbdClient client = server.open()) {
            byte[] data = new byte[4096];
            new Random(3).nextBytes(data);
            client.write(0, data);
            assertArrayEquals(data, client.read(0, data.length));
            assertEquals(BcX25519Provider.NAME, Security.getProviders()[0].getName());
        }
        // The test's client and the server each agree once, both in this JVM.
        assertEquals(2, BcX25519Provider.AGREEMENTS.sum() - before);
    }

    @Test
    void agreesWithTheJdksKeysBothWays() throws Exception {
        KeyPairGenerator jdkGenerator = KeyPairGenerator.getInstance("XDH", "SunEC");
        jdkGenerator.initialize(NamedParameterSpec.X25519);
        for (int i = 0; i < 20; i++) {
            KeyPair ours = x25519Pair();
            KeyPair jdk = jdkGenerator.generateKeyPair();
            // The peer's key as the JDK's TLS makes it: its KeyFactory, from the u-coordinate.
            PublicKey jdkPeer = KeyFactory.getInstance("XDH")
                    .generatePublic(
                            new XECPublicKeySpec(NamedParameterSpec.X25519, ((XECPublicKey) jdk.getPublic()).getU()));
            KeyAgreement ourSide = KeyAgreement.getInstance("XDH");
            ourSide.init(ours.getPrivate());
            assertEquals(BcX25519Provider.NAME, ourSide.getProvider().getName());
            ourSide.doPhase(jdkPeer, true);
            SecretKey ourSecret = ourSide.generateSecret("TlsPremasterSecret");

            KeyAgreement jdkSide = KeyAgreement.getInstance("XDH", "SunEC");
            jdkSide.init(jdk.getPrivate());
            jdkSide.doPhase(ours.getPublic(), true);
            assertArrayEquals(jdkSide.generateSecret(), ourSecret.getEncoded(), "agreement " + i);
            assertEquals("TlsPremasterSecret", ourSecret.getAlgorithm());
        }
    }

    @Test
    void encodesKeysAsTheJdkReadsThem() throws Exception {
        KeyPair ours = x25519Pair();
        KeyFactory jdk = KeyFactory.getInstance("XDH", "SunEC");
        XECPublicKey decoded = (XECPublicKey)
                jdk.generatePublic(new X509EncodedKeySpec(ours.getPublic().getEncoded()));
        assertEquals(((XECPublicKey) ours.getPublic()).getU(), decoded.getU());
        assertEquals(NamedParameterSpec.X25519.getName(), ((NamedParameterSpec) decoded.getParams()).getName());
        assertNotEquals(
                null,
                jdk.generatePrivate(new PKCS8EncodedKeySpec(ours.getPrivate().getEncoded())));
    }

    @Test
    void refusesAPointOfSmallOrder() throws Exception {
        for (BigInteger u : new BigInteger[] {BigInteger.ZERO, BigInteger.ONE}) {
            KeyAgreement agreement = KeyAgreement.getInstance("XDH");
            agreement.init(x25519Pair().getPrivate());
            // As the JDK's TLS makes a peer's key: its KeyFactory takes any u-coordinate.
            PublicKey peer = KeyFactory.getInstance("XDH", "SunEC")
                    .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, u));
            assertThrows(InvalidKeyException.class, () -> agreement.doPhase(peer, true), "u = " + u);
        }
    }

    private static KeyPair x25519Pair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("XDH");
        generator.initialize(NamedParameterSpec.X25519);
        assertEquals(BcX25519Provider.NAME, generator.getProvider().getName());
        return generator.generateKeyPair();
    }
}
