package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.DisabledAlgorithms;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureScheme;

/**
 * The JDK's TLS policy, as a server on the JDK's engine applies it, for Bouncy Castle's
 * handshake: so that the default handshake refuses what an administrator, or the JDK's own
 * defaults (no SHA-1 handshake signatures in TLS 1.2 since JDK 25), refuse. The protocols and
 * suites a server-mode {@code SSLEngine} enables ({@code jdk.tls.server.protocols} and {@code
 * jdk.tls.disabledAlgorithms} applied by the JDK itself), the named groups it enables ({@code
 * jdk.tls.namedGroups}) and the signature schemes {@code jdk.tls.server.SignatureSchemes} allows,
 * each also checked against {@code jdk.tls.disabledAlgorithms} ({@link DisabledAlgorithms}), as
 * are the server's key and the pre-shared keys' TLS 1.2 suites, which the JDK has not.
 */
final class JdkTlsPolicy {
    private final Set<String> protocols;
    private final Set<String> enabledSuites;
    private final Set<String> knownSuites;
    /** The groups allowed by name, lower case; null for any. */
    private final Set<String> groups;
    /** The handshake signatures allowed by name, lower case; null for any. */
    private final Set<String> schemes;

    private final DisabledAlgorithms disabled;
    private final Map<Integer, Boolean> signatures = new ConcurrentHashMap<>();

    JdkTlsPolicy(
            Set<String> protocols,
            Set<String> enabledSuites,
            Set<String> knownSuites,
            List<String> groups,
            List<String> schemes,
            DisabledAlgorithms disabled) {
        this.protocols = Set.copyOf(protocols);
        this.enabledSuites = Set.copyOf(enabledSuites);
        this.knownSuites = Set.copyOf(knownSuites);
        this.groups = lower(groups);
        this.schemes = lower(schemes);
        this.disabled = disabled;
    }

    private static Set<String> lower(List<String> names) {
        if (names == null) {
            return null;
        }
        Set<String> out = new HashSet<>();
        for (String n : names) {
            out.add(n.strip().toLowerCase(Locale.ROOT));
        }
        return Set.copyOf(out);
    }

    /** The policy now in force: read as each server starts, as the JDK's engine would read it. */
    static JdkTlsPolicy current() {
        SSLEngine engine;
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, null, null);
            engine = context.createSSLEngine();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's TLS is unavailable: " + e.getMessage(), e);
        }
        engine.setUseClientMode(false);
        SSLParameters parameters = engine.getSSLParameters();
        String[] groups = parameters.getNamedGroups();
        String[] schemes = parameters.getSignatureSchemes();
        return new JdkTlsPolicy(
                Set.of(engine.getEnabledProtocols()),
                Set.of(engine.getEnabledCipherSuites()),
                Set.of(engine.getSupportedCipherSuites()),
                groups == null ? null : List.of(groups),
                schemes == null ? null : List.of(schemes),
                DisabledAlgorithms.current());
    }

    /** {@code offered}'s versions the JDK enables, in order. */
    ProtocolVersion[] versions(ProtocolVersion... offered) {
        List<ProtocolVersion> out = new ArrayList<>();
        for (ProtocolVersion v : offered) {
            if (protocols.contains(v.getName().replace("TLS ", "TLSv"))) {
                out.add(v);
            }
        }
        return out.toArray(ProtocolVersion[]::new);
    }

    /** Whether the JDK has the suite named {@code name} at all (enabled or not). */
    boolean knows(String name) {
        return knownSuites.contains(name);
    }

    /**
     * {@code offered}'s suites the JDK enables, in order; one the JDK has not (pre-shared keys'
     * TLS 1.2 suites, AES-CCM's) unless disabled by its name, a pattern or a part (key exchange,
     * cipher, hash), or its version is not enabled.
     */
    int[] suites(int... offered) {
        List<Integer> out = new ArrayList<>();
        for (int suite : offered) {
            String name = TlsNames.suite(suite);
            boolean permitted = knownSuites.contains(name)
                    ? enabledSuites.contains(name)
                    : protocols.contains(TlsNames.tls13(suite) ? "TLSv1.3" : "TLSv1.2")
                            && !disabled.disables(suiteParts(name));
            if (permitted) {
                out.add(suite);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * A suite's name and its parts: "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256" -> DHE_PSK, DHE, PSK,
     * AES_128_GCM, SHA256, SHA-256; "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" -> ..., AES_128_CCM (CCM's
     * suites name no hash); TLS 1.3's "TLS_AES_128_CCM_SHA256" -> AES_128_CCM, SHA256, SHA-256.
     */
    private static String[] suiteParts(String name) {
        List<String> parts = new ArrayList<>(List.of(name));
        if (!name.startsWith("TLS_")) {
            return parts.toArray(String[]::new);
        }
        int with = name.indexOf("_WITH_");
        String rest = name.substring(4);
        if (with > 0) {
            String exchange = name.substring(4, with);
            parts.add(exchange);
            parts.addAll(List.of(exchange.split("_")));
            rest = name.substring(with + 6);
        }
        int hash = rest.lastIndexOf('_');
        if (rest.endsWith("_CCM") || rest.endsWith("_CCM_8")) {
            parts.add(rest);
        } else if (hash > 0) {
            parts.add(rest.substring(0, hash));
            parts.addAll(hashNames(rest.substring(hash + 1)));
        }
        return parts.toArray(String[]::new);
    }

    /** "SHA256" and "SHA-256" for "SHA256"; "SHA1", "SHA-1" and "SHA" for "SHA" or "SHA1". */
    private static List<String> hashNames(String hash) {
        String h = hash.toUpperCase(Locale.ROOT);
        if (h.equals("SHA") || h.equals("SHA1")) {
            return List.of("SHA", "SHA1", "SHA-1");
        }
        return h.startsWith("SHA") ? List.of(h, "SHA-" + h.substring(3)) : List.of(h);
    }

    /** {@code offered}'s named groups the JDK enables and does not disable, in order. */
    int[] groups(int... offered) {
        List<Integer> out = new ArrayList<>();
        for (int group : offered) {
            if (permitsGroup(group)) {
                out.add(group);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private boolean permitsGroup(int group) {
        String name = NamedGroup.getName(group);
        if (name == null || (groups != null && !groups.contains(name.toLowerCase(Locale.ROOT)))) {
            return false;
        }
        String[] family;
        int bits;
        if (NamedGroup.refersToAnXDHCurve(group)) {
            family = new String[] {"XDH", name};
            bits = group == NamedGroup.x25519 ? 255 : 448;
        } else if (NamedGroup.isFiniteField(group)) {
            family = new String[] {"DiffieHellman", "DH"};
            bits = NamedGroup.getFiniteFieldBits(group);
        } else {
            family = new String[] {"EC"};
            bits = NamedGroup.getCurveBits(group);
        }
        if (disabled.disables(name) || disabled.disables(family)) {
            return false;
        }
        for (String f : family) {
            if (disabled.disablesSize(f, bits)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a handshake signature in {@code scheme} is allowed: worked out once a scheme, not in each handshake. */
    boolean permitsSignature(int scheme) {
        return signatures.computeIfAbsent(scheme, this::judgeSignature);
    }

    private boolean judgeSignature(int scheme) {
        String name = SignatureScheme.getName(scheme);
        // TLS 1.2 pairs without a TLS 1.3 name, named as the JDK names them: "ecdsa_sha224".
        if (name.equals("UNKNOWN")) {
            name = SignatureAlgorithm.getName(SignatureScheme.getSignatureAlgorithm(scheme)) + "_"
                    + HashAlgorithm.getName(SignatureScheme.getHashAlgorithm(scheme));
        }
        if (schemes != null && !schemes.contains(name.toLowerCase(Locale.ROOT))) {
            return false;
        }
        return !disabled.disablesHandshakeSignature(name, signatureParts(name));
    }

    /** A scheme's hash and signature algorithm as the JDK names them: ecdsa_sha1 -> SHA1, SHA-1, ECDSA, SHA1withECDSA. */
    private static String[] signatureParts(String scheme) {
        List<String> parts = new ArrayList<>();
        String hash = scheme.contains("_sha") ? scheme.substring(scheme.lastIndexOf("_sha") + 1) : "";
        String jdkHash = hash.toUpperCase(Locale.ROOT);
        if (!hash.isEmpty()) {
            parts.addAll(hashNames(jdkHash));
        }
        if (scheme.startsWith("ecdsa")) {
            parts.addAll(List.of("ECDSA", jdkHash + "withECDSA"));
        } else if (scheme.startsWith("rsa_pss")) {
            parts.add("RSASSA-PSS");
        } else if (scheme.startsWith("rsa")) {
            parts.addAll(List.of("RSA", jdkHash + "withRSA"));
        } else if (scheme.startsWith("ed")) {
            parts.addAll(List.of("EdDSA", scheme));
        }
        return parts.toArray(String[]::new);
    }

    /** Why the JDK would not sign with {@code key} ({@code kind}), or null if it would. */
    String keyRefusal(PrivateKey key, CertKeyKind kind) {
        String algorithm = kind.rsa() ? "RSA" : kind.name().startsWith("ECDSA") ? "EC" : "EdDSA";
        int bits = switch (key) {
            case RSAPrivateKey rsa -> rsa.getModulus().bitLength();
            case ECPrivateKey ec -> ec.getParams().getCurve().getField().getFieldSize();
            default -> kind == CertKeyKind.ED25519 ? 255 : 448;
        };
        if (disabled.disables(algorithm, key.getAlgorithm()) || disabled.disablesSize(algorithm, bits)) {
            return "jdk.tls.disabledAlgorithms disables its " + bits + "-bit " + algorithm + " key";
        }
        return null;
    }
}
