package dev.faultdisk.nbd;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ClientHello;
import org.bouncycastle.tls.KeyShareEntry;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SecurityParameters;
import org.bouncycastle.tls.TlsExtensionsUtils;
import org.bouncycastle.tls.TlsServerContext;
import org.bouncycastle.tls.TlsUtils;

/** Names of Bouncy Castle's suites and sessions as the JDK gives them, and what a ClientHello shares. */
final class TlsNames {
    /**
     * {@link CipherSuite}'s constants by value and by name (their IANA names, the JDK's too), read
     * once: looked up by reflection for each connection they took a seventh of a PSK server's
     * samples (JFR).
     */
    private static final Map<Integer, String> NAMES = new HashMap<>();

    private static final Map<String, Integer> SUITES = new HashMap<>();

    private static final boolean PREFER_X25519 =
            Boolean.parseBoolean(System.getProperty("faultdisk.tls.preferX25519", "true"));

    static {
        for (Field f : CipherSuite.class.getFields()) {
            try {
                if (f.getType() == int.class) {
                    NAMES.putIfAbsent(f.getInt(null), f.getName());
                    SUITES.putIfAbsent(f.getName(), f.getInt(null));
                }
            } catch (IllegalAccessException e) {
                break;
            }
        }
    }

    /**
     * The named groups the servers offer, in their order, before the JDK's policy ({@link
     * JdkTlsPolicy#groups}) takes what it disables: Bouncy Castle's default and secp521r1, which
     * the JDK's engine and GnuTLS's servers (nbdkit's) take, and a TLS 1.3 client offering it
     * alone was refused without.
     */
    static final int[] GROUPS = {
        NamedGroup.x25519,
        NamedGroup.x448,
        NamedGroup.secp256r1,
        NamedGroup.secp384r1,
        NamedGroup.secp521r1,
        NamedGroup.ffdhe2048,
        NamedGroup.ffdhe3072,
        NamedGroup.ffdhe4096,
    };

    private TlsNames() {}

    /** Whether {@code groups} holds X25519. */
    private static boolean hasX25519(int[] groups) {
        for (int g : groups) {
            if (g == NamedGroup.x25519) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code suite} is one of TLS 1.3's (those name no key exchange). */
    static boolean tls13(int suite) {
        return TlsUtils.isValidVersionForCipherSuite(suite, ProtocolVersion.TLSv13);
    }

    /** {@code suite}'s IANA name, or its value in hex. */
    static String suite(int suite) {
        String name = NAMES.get(suite);
        return name != null ? name : String.format("0x%04X", suite);
    }

    /** The suite named {@code name} (IANA's name, as the JDK names it), or -1 if Bouncy Castle has none. */
    static int suiteNamed(String name) {
        return SUITES.getOrDefault(name, -1);
    }

    /**
     * The version and suite agreed, named as the JDK names them ({@code "TLSv1.2 TLS_..."}), and in
     * TLS 1.3 the key share's group ({@code "TLSv1.3 TLS_AES_128_GCM_SHA256 x25519"}; {@code
     * keyShare} -1 for none).
     */
    static String session(SecurityParameters agreed, int keyShare) {
        String session =
                agreed.getNegotiatedVersion().getName().replace("TLS ", "TLSv") + " " + suite(agreed.getCipherSuite());
        return keyShare < 0 ? session : session + " " + NamedGroup.getName(keyShare);
    }

    /**
     * The groups a server offers: X25519 alone where a TLS 1.3 client sent a share of it ({@code
     * shared}) and {@code groups} (those the JDK's policy leaves, a copy the caller hands over)
     * hold it, else {@code groups}. Bouncy Castle takes the first share of the client's that the
     * server supports, and GnuTLS's clients send secp256r1's before X25519's. X25519 costs under
     * half of P-256 in the JDK (a key pair and an agreement), a sixth in Bouncy Castle's
     * arithmetic ({@link BcX25519Domain}), and P-256's arithmetic was almost half of a warm PSK
     * server's samples (JFR) over nbdinfo runs. {@code -Dfaultdisk.tls.preferX25519=false}: the
     * client's first, for comparison.
     */
    static int[] offeredGroups(TlsServerContext context, boolean shared, int[] groups) {
        var version = context.getSecurityParametersHandshake().getNegotiatedVersion();
        if (PREFER_X25519 && shared && version != null && TlsUtils.isTLSv13(version) && hasX25519(groups)) {
            return new int[] {NamedGroup.x25519};
        }
        return groups;
    }

    /** Whether the ClientHello carries an X25519 key share (TLS 1.3); false if malformed (Bouncy Castle refuses it). */
    static boolean sharesX25519(ClientHello hello) {
        try {
            var shares = TlsExtensionsUtils.getKeyShareClientHello(hello.getExtensions());
            if (shares != null) {
                for (Object share : shares) {
                    if (((KeyShareEntry) share).getNamedGroup() == NamedGroup.x25519) {
                        return true;
                    }
                }
            }
        } catch (java.io.IOException e) {
            // Bouncy Castle refuses a malformed extension itself
        }
        return false;
    }
}
