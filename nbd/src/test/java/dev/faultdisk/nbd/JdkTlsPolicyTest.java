package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.net.DisabledAlgorithms;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureScheme;
import org.junit.jupiter.api.Test;

/**
 * {@link JdkTlsPolicy} and {@link DisabledAlgorithms}: what Bouncy Castle's handshake keeps of
 * its versions, suites, groups, signatures and key under a given policy. The JDK's engine as the
 * judge of the same policies, with real clients: {@code TlsPolicyDifferentialTest} (interop).
 */
class JdkTlsPolicyTest {
    /** JDK 25's own jdk.tls.disabledAlgorithms. */
    private static final String JDK25 = "SSLv3, TLSv1, TLSv1.1, DTLSv1.0, RC4, DES, MD5withRSA, DH keySize < 1024,"
            + " EC keySize < 224, 3DES_EDE_CBC, anon, NULL, ECDH, TLS_RSA_*, rsa_pkcs1_sha1 usage HandshakeSignature,"
            + " ecdsa_sha1 usage HandshakeSignature, dsa_sha1 usage HandshakeSignature, include jdk.disabled.namedCurves";

    private static JdkTlsPolicy policy(String disabled, Map<String, String> properties, List<String> groups) {
        return new JdkTlsPolicy(
                Set.of("TLSv1.3", "TLSv1.2"),
                Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"),
                Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
                groups,
                null,
                DisabledAlgorithms.parse(disabled, properties::get));
    }

    private static JdkTlsPolicy policy(String disabled) {
        return policy(disabled, Map.of("jdk.disabled.namedCurves", "sect283k1"), null);
    }

    @Test
    void sha1HandshakeSignaturesAreRefusedByTheJdksDefaultsAndOthersAllowed() {
        JdkTlsPolicy jdk = policy(JDK25);
        assertFalse(jdk.permitsSignature(SignatureScheme.ecdsa_sha1));
        assertFalse(jdk.permitsSignature(SignatureScheme.rsa_pkcs1_sha1));
        assertTrue(jdk.permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
        assertTrue(jdk.permitsSignature(SignatureScheme.rsa_pss_rsae_sha256));
        assertTrue(jdk.permitsSignature(SignatureScheme.ed25519));
        assertTrue(policy("").permitsSignature(SignatureScheme.ecdsa_sha1));
    }

    @Test
    void aSignatureIsRefusedByItsHashItsAlgorithmOrItsName() {
        assertFalse(policy("SHA1").permitsSignature(SignatureScheme.rsa_pkcs1_sha1));
        assertFalse(policy("sha-384").permitsSignature(SignatureScheme.ecdsa_secp384r1_sha384));
        assertTrue(policy("SHA-384").permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
        assertFalse(policy("RSASSA-PSS").permitsSignature(SignatureScheme.rsa_pss_rsae_sha256));
        assertTrue(policy("RSASSA-PSS").permitsSignature(SignatureScheme.rsa_pkcs1_sha256));
        assertFalse(policy("SHA256withECDSA").permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
        assertFalse(policy("EdDSA").permitsSignature(SignatureScheme.ed448));
        int ecdsaSha224 = SignatureScheme.from(HashAlgorithm.sha224, SignatureAlgorithm.ecdsa);
        assertFalse(policy("SHA224").permitsSignature(ecdsaSha224));
        assertFalse(policy("ecdsa_sha224").permitsSignature(ecdsaSha224));
        assertTrue(policy("SHA256").permitsSignature(ecdsaSha224));
        // A certificate-only constraint leaves handshake signatures alone.
        assertTrue(policy("ecdsa_secp256r1_sha256 usage TLSServer")
                .permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
        assertFalse(policy("ecdsa_secp256r1_sha256 usage TLSServer HandshakeSignature")
                .permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
    }

    @Test
    void jdkTlsServerSignatureSchemesIsAnAllowList() {
        JdkTlsPolicy only = new JdkTlsPolicy(
                Set.of("TLSv1.3"),
                Set.of(),
                Set.of(),
                null,
                List.of("ed25519", "ECDSA_SECP384R1_SHA384"),
                DisabledAlgorithms.parse(null, p -> null));
        assertTrue(only.permitsSignature(SignatureScheme.ed25519));
        assertTrue(only.permitsSignature(SignatureScheme.ecdsa_secp384r1_sha384));
        assertFalse(only.permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
    }

    @Test
    void groupsGoByNameFamilyKeySizeIncludedListAndTheJdksNamedGroups() {
        int[] all = TlsNames.GROUPS;
        assertArrayEquals(all, policy(JDK25).groups(all));
        assertArrayEquals(except(NamedGroup.x25519), policy("X25519").groups(all));
        assertArrayEquals(
                except(NamedGroup.secp256r1, NamedGroup.ffdhe2048),
                policy("EC keySize < 384, DH keySize < 3072").groups(all));
        assertArrayEquals(
                except(NamedGroup.x25519, NamedGroup.x448), policy("XDH").groups(all));
        assertArrayEquals(
                except(NamedGroup.ffdhe2048, NamedGroup.ffdhe3072, NamedGroup.ffdhe4096),
                policy("DiffieHellman").groups(all));
        // include names another property's entries; secp384r1 is in it here.
        assertArrayEquals(
                new int[] {NamedGroup.x25519, NamedGroup.secp256r1},
                policy(
                                "include jdk.disabled.namedCurves",
                                Map.of("jdk.disabled.namedCurves", "secp384r1"),
                                List.of("x25519", "secp256r1", "secp384r1"))
                        .groups(all));
    }

    @Test
    void suitesTheJdkKnowsFollowItsEnabledListAndPreSharedKeysOnesTheirParts() {
        int[] psk = PskServer.SUITES;
        JdkTlsPolicy jdk = policy(JDK25);
        int[] kept = jdk.suites(psk);
        assertEquals(CipherSuite.TLS_AES_128_GCM_SHA256, kept[0]);
        // AES-CCM's suites, unknown to the JDK, by their parts and version.
        assertEquals(CipherSuite.TLS_AES_128_CCM_SHA256, kept[1]);
        assertEquals(CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256, kept[2]);
        int[] noCcm = policy("AES_128_CCM").suites(psk);
        assertFalse(contains(noCcm, CipherSuite.TLS_AES_128_CCM_SHA256));
        assertFalse(contains(noCcm, CipherSuite.TLS_DHE_PSK_WITH_AES_128_CCM));
        assertTrue(contains(noCcm, CipherSuite.TLS_DHE_PSK_WITH_AES_256_CCM));
        assertEquals(
                psk.length - 4,
                noCcm.length,
                "less ChaCha20's TLS 1.3 suite (not enabled here) and three AES-128-CCM ones");
        // ChaCha20 with TLS 1.3: known to the JDK, not in its enabled list here.
        assertFalse(contains(kept, CipherSuite.TLS_CHACHA20_POLY1305_SHA256));
        assertEquals(psk.length - 1, kept.length);
        int[] noCbcSha1 = policy("SHA1").suites(psk);
        assertFalse(contains(noCbcSha1, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA));
        assertTrue(contains(noCbcSha1, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256));
        int[] noDhe = policy("DHE_PSK").suites(psk);
        assertFalse(contains(noDhe, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256));
        assertTrue(contains(noDhe, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256));
        // TLS_PSK_*: the suites on the key alone (no forward secrecy), not DHE-PSK's or ECDHE-PSK's.
        int[] keyAlone = policy("TLS_PSK_*").suites(psk);
        assertTrue(contains(jdk.suites(psk), CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256));
        assertFalse(contains(keyAlone, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256));
        assertFalse(contains(keyAlone, CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA));
        assertTrue(contains(keyAlone, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256));
        assertTrue(contains(keyAlone, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA));
        int[] pattern = policy("TLS_ECDHE_PSK_*, AES_128_GCM").suites(psk);
        assertFalse(contains(pattern, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256));
        assertFalse(contains(pattern, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256));
        assertTrue(contains(pattern, CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384));
        // TLS 1.3 alone, one of the JDK's TLS 1.3 suites enabled: that one, and AES-CCM's, which
        // the JDK does not know.
        JdkTlsPolicy tls13Only = new JdkTlsPolicy(
                Set.of("TLSv1.3"),
                Set.of("TLS_AES_128_GCM_SHA256"),
                Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
                null,
                null,
                DisabledAlgorithms.parse("", p -> null));
        assertArrayEquals(
                new int[] {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_128_CCM_SHA256},
                tls13Only.suites(psk));
        assertArrayEquals(
                new ProtocolVersion[] {ProtocolVersion.TLSv13},
                tls13Only.versions(ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12)));
    }

    @Test
    void theServersKeyIsRefusedByItsAlgorithmOrItsSize() throws Exception {
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        PrivateKey p256 = ec.generateKeyPair().getPrivate();
        assertNull(policy(JDK25).keyRefusal(p256, CertKeyKind.ECDSA_P256));
        assertEquals(
                "jdk.tls.disabledAlgorithms disables its 256-bit EC key",
                policy("EC keySize < 384").keyRefusal(p256, CertKeyKind.ECDSA_P256));
        assertEquals(
                "jdk.tls.disabledAlgorithms disables its 256-bit EC key",
                policy("EC").keyRefusal(p256, CertKeyKind.ECDSA_P256));
        assertNull(policy("EC keySize > 384").keyRefusal(p256, CertKeyKind.ECDSA_P256));
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        PrivateKey r2048 = rsa.generateKeyPair().getPrivate();
        assertNull(policy(JDK25).keyRefusal(r2048, CertKeyKind.RSA));
        assertEquals(
                "jdk.tls.disabledAlgorithms disables its 2048-bit RSA key",
                policy("RSA keySize <= 2048").keyRefusal(r2048, CertKeyKind.RSA));
    }

    @Test
    void theJdksOwnPolicyLeavesEveryDefaultOfThisHandshake() {
        JdkTlsPolicy now = JdkTlsPolicy.current();
        assertArrayEquals(TlsNames.GROUPS, now.groups(TlsNames.GROUPS));
        assertEquals(2, now.versions(ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12)).length);
        assertArrayEquals(PskServer.SUITES, now.suites(PskServer.SUITES));
        assertFalse(now.permitsSignature(SignatureScheme.ecdsa_sha1), "JDK 25 refuses SHA-1 handshake signatures");
        assertTrue(now.permitsSignature(SignatureScheme.ecdsa_secp256r1_sha256));
    }

    /** {@link TlsNames#GROUPS} in its order, less {@code removed}. */
    private static int[] except(int... removed) {
        return Arrays.stream(TlsNames.GROUPS).filter(g -> !contains(removed, g)).toArray();
    }

    private static boolean contains(int[] suites, int suite) {
        for (int s : suites) {
            if (s == suite) {
                return true;
            }
        }
        return false;
    }
}
