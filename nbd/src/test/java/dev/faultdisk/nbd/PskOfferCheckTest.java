package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskKeyExchangeMode;
import org.junit.jupiter.api.Test;

/**
 * Why a client's offer has nothing this server takes, as a refusal's log line says it: each
 * reason for the offer it fits, and none for offers it takes (TLS 1.3 with psk_dhe_ke, a group
 * and AES-GCM or ChaCha20-Poly1305; TLS 1.2 with a DHE-PSK or ECDHE-PSK suite).
 */
class PskOfferCheckTest {
    private static final int[] SERVER_GROUPS = {NamedGroup.x25519, NamedGroup.secp256r1};
    private static final int[] SERVER_SUITES = PskServer.SUITES.clone();

    private static final ProtocolVersion[] TLS13_AND_12 = ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12);
    private static final short[] BOTH_MODES = {PskKeyExchangeMode.psk_ke, PskKeyExchangeMode.psk_dhe_ke};
    private static final int[] GNUTLS_SUITES = {
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256
    };

    @Test
    void offersItTakesHaveNoReason() {
        int[] groups = {NamedGroup.secp256r1, NamedGroup.x25519};
        assertEquals("", why(GNUTLS_SUITES, ProtocolVersion.TLSv12, TLS13_AND_12, BOTH_MODES, groups));
        assertEquals(
                "",
                why(
                        new int[] {CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256},
                        ProtocolVersion.TLSv12,
                        null,
                        null,
                        null),
                "TLS 1.2 alone, without extensions");
    }

    @Test
    void eachReasonForTheOfferItFits() {
        int[] groups = {NamedGroup.x25519};
        assertEquals(
                "the client offered TLS 1.3 with its key but no ECDHE (psk_ke alone; this server needs psk_dhe_ke)",
                why(
                        GNUTLS_SUITES,
                        ProtocolVersion.TLSv12,
                        TLS13_AND_12,
                        new short[] {PskKeyExchangeMode.psk_ke},
                        groups));
        assertEquals(
                "the client offered TLS 1.3 with no group this server has for ECDHE or DHE",
                why(GNUTLS_SUITES, ProtocolVersion.TLSv12, TLS13_AND_12, BOTH_MODES, null));
        assertEquals(
                "",
                why(GNUTLS_SUITES, ProtocolVersion.TLSv12, TLS13_AND_12, null, groups),
                "TLS 1.3 without a key at all: the refusal names that itself");
        assertEquals(
                "the client offered TLS 1.3 with no group this server has for ECDHE or DHE",
                why(GNUTLS_SUITES, ProtocolVersion.TLSv12, TLS13_AND_12, BOTH_MODES, new int[] {NamedGroup.x448 + 99}));
        assertEquals(
                "",
                why(
                        new int[] {CipherSuite.TLS_CHACHA20_POLY1305_SHA256},
                        ProtocolVersion.TLSv12,
                        TLS13_AND_12,
                        BOTH_MODES,
                        groups),
                "TLS 1.3 in ChaCha20-Poly1305 alone");
        assertEquals(
                "the client offered TLS 1.3 without TLS_AES_128_GCM_SHA256 or TLS_CHACHA20_POLY1305_SHA256 or"
                        + " TLS_AES_128_CCM_SHA256",
                why(
                        new int[] {CipherSuite.TLS_AES_128_CCM_8_SHA256},
                        ProtocolVersion.TLSv12,
                        TLS13_AND_12,
                        BOTH_MODES,
                        groups));
        assertEquals(
                "the client offered TLS 1.2 without the suites this server takes (PSK, ECDHE-PSK or DHE-PSK with"
                        + " AES-GCM, AES-CBC, ChaCha20-Poly1305 or AES-CCM)",
                why(
                        new int[] {
                            CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_RSA_PSK_WITH_AES_128_GCM_SHA256
                        },
                        ProtocolVersion.TLSv12,
                        ProtocolVersion.TLSv12.only(),
                        null,
                        groups));
        assertEquals(
                "the client offered neither TLS 1.2 nor TLS 1.3",
                why(GNUTLS_SUITES, ProtocolVersion.TLSv11, null, null, null));
    }

    private static String why(
            int[] suites, ProtocolVersion legacy, ProtocolVersion[] versions, short[] modes, int[] groups) {
        return PskOfferCheck.whyUnusable(true, SERVER_SUITES, suites, legacy, versions, modes, groups, SERVER_GROUPS);
    }
}
