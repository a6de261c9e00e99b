package dev.faultdisk.nbd;

import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskKeyExchangeMode;
import org.bouncycastle.util.Arrays;

/** Whether a PSK client's ClientHello offers anything {@link PskServer} takes, and if not, why. */
final class PskOfferCheck {
    private PskOfferCheck() {}

    /**
     * Why nothing the client offers is something this server takes, or "" if something is:
     * Bouncy Castle's alert alone ({@code protocol_version}, {@code handshake_failure}) leaves a
     * client's owner guessing (a GnuTLS priority string without ECDHE, say). Bouncy Castle agrees
     * on the highest version both have, so a client offering TLS 1.3 gets TLS 1.3 or nothing.
     * {@code versions} null: the client's {@code legacy} version and those before it; {@code
     * modes} and {@code groups} (the client's) null: none; {@code serverTls13}, {@code
     * serverSuites} and {@code serverGroups}: what the server offers.
     */
    static String whyUnusable(
            boolean serverTls13,
            int[] serverSuites,
            int[] suites,
            ProtocolVersion legacy,
            ProtocolVersion[] versions,
            short[] modes,
            int[] groups,
            int[] serverGroups) {
        boolean tls13 = serverTls13 && versions != null && ProtocolVersion.contains(versions, ProtocolVersion.TLSv13);
        boolean tls12 = versions != null
                ? ProtocolVersion.contains(versions, ProtocolVersion.TLSv12)
                : legacy != null && legacy.isEqualOrLaterVersionOf(ProtocolVersion.TLSv12);
        boolean tls13Suite = false;
        boolean tls12Suite = false;
        for (int suite : serverSuites) {
            boolean ofTls13 = TlsNames.tls13(suite);
            if (suites != null && Arrays.contains(suites, suite)) {
                tls13Suite |= ofTls13;
                tls12Suite |= !ofTls13;
            }
        }
        if (tls13) {
            boolean group = false;
            for (int g : serverGroups) {
                group |= groups != null && Arrays.contains(groups, g);
            }
            if (modes == null) {
                return ""; // no key for TLS 1.3 at all: getCredentials says so
            }
            if (!Arrays.contains(modes, PskKeyExchangeMode.psk_dhe_ke)) {
                return "the client offered TLS 1.3 with its key but no ECDHE (psk_ke alone; this server needs"
                        + " psk_dhe_ke)";
            }
            if (!group) {
                return "the client offered TLS 1.3 with no group this server has for ECDHE or DHE";
            }
            return tls13Suite ? "" : "the client offered TLS 1.3 without " + tls13Names(serverSuites);
        }
        if (tls12) {
            return tls12Suite
                    ? ""
                    : "the client offered TLS 1.2 without the suites this server takes (PSK, ECDHE-PSK or"
                            + " DHE-PSK with AES-GCM, AES-CBC, ChaCha20-Poly1305 or AES-CCM)";
        }
        return "the client offered neither TLS 1.2 nor TLS 1.3";
    }

    /** The server's TLS 1.3 suites, by name: "TLS_AES_128_GCM_SHA256 or TLS_CHACHA20_POLY1305_SHA256". */
    private static String tls13Names(int[] serverSuites) {
        StringBuilder names = new StringBuilder();
        for (int suite : serverSuites) {
            if (TlsNames.tls13(suite)) {
                names.append(names.isEmpty() ? "" : " or ").append(TlsNames.suite(suite));
            }
        }
        return names.isEmpty() ? "a suite this server takes" : names.toString();
    }
}
