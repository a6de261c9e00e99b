package dev.faultdisk.wire.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * {@code jdk.tls.disabledAlgorithms}, the JDK's list of what TLS may not use, read for the
 * decisions this server makes itself: the group {@link EngineTls} leaves the JDK's engine, and
 * with Bouncy Castle's handshake (the nbd module's {@code JdkTlsPolicy}) named groups,
 * handshake signatures, the server's key, and suites the JDK has not (pre-shared keys'). An entry
 * is a name, optionally with constraints ({@code EC keySize < 224}, {@code rsa_pkcs1_sha1 usage
 * HandshakeSignature}), a suite pattern ending in {@code *} ({@code TLS_RSA_*}), or {@code
 * include PROPERTY}; names match without regard to case, as the JDK matches them. Constraints
 * that concern certificates only ({@code denyAfter}, {@code jdkCA}, other usages) leave the
 * handshake's choices alone; the client's chain is checked by the JDK's trust manager.
 */
public final class DisabledAlgorithms {
    /** One entry: its name, and a key size limit ({@code op} null for none) or usages, if any. */
    private record Entry(String name, String op, int limit, Set<String> usages, boolean constrained) {
        boolean matches(String candidate) {
            return name.endsWith("*")
                    ? candidate.regionMatches(true, 0, name, 0, name.length() - 1)
                    : name.equalsIgnoreCase(candidate);
        }
    }

    private final List<Entry> entries;

    private DisabledAlgorithms(List<Entry> entries) {
        this.entries = entries;
    }

    /**
     * Parses {@code value} (null: nothing disabled); {@code property} gives an {@code include}d
     * property's value (the JDK's {@code Security::getProperty}).
     */
    public static DisabledAlgorithms parse(String value, UnaryOperator<String> property) {
        List<Entry> entries = new ArrayList<>();
        add(entries, value, property, 0);
        return new DisabledAlgorithms(List.copyOf(entries));
    }

    private static void add(List<Entry> entries, String value, UnaryOperator<String> property, int depth) {
        if (value == null || depth > 4) {
            return;
        }
        for (String raw : value.split(",")) {
            String entry = raw.strip().replaceAll("^\"|\"$", "");
            if (entry.isEmpty()) {
                continue;
            }
            String[] words = entry.split("\\s+");
            if (words[0].equals("include") && words.length == 2) {
                add(entries, property.apply(words[1]), property, depth + 1);
            } else {
                entries.add(entry(words));
            }
        }
    }

    private static Entry entry(String[] words) {
        String op = null;
        int limit = 0;
        Set<String> usages = Set.of();
        for (int i = 1; i < words.length; i++) {
            if (words[i].equals("keySize") && i + 2 < words.length) {
                op = words[i + 1];
                try {
                    limit = Integer.parseInt(words[i + 2]);
                } catch (NumberFormatException e) {
                    op = null; // the JDK refuses such an entry; nothing to apply here
                }
            } else if (words[i].equals("usage")) {
                List<String> named = new ArrayList<>();
                for (int j = i + 1; j < words.length && !words[j].equals("&"); j++) {
                    named.add(words[j].toLowerCase(Locale.ROOT));
                }
                usages = Set.copyOf(named);
            }
        }
        return new Entry(words[0], op, limit, usages, words.length > 1);
    }

    /** The JDK's list now ({@code Security.getProperty}), its {@code include}s read. */
    public static DisabledAlgorithms current() {
        return parse(
                java.security.Security.getProperty("jdk.tls.disabledAlgorithms"), java.security.Security::getProperty);
    }

    /** Whether an entry without constraints names any of {@code names}. */
    public boolean disables(String... names) {
        for (Entry e : entries) {
            if (!e.constrained()) {
                for (String name : names) {
                    if (e.matches(name)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Whether a handshake signature in {@code scheme} (its TLS name) is disabled: by name without
     * constraints or with the usage {@code HandshakeSignature}, or by one of its {@code parts}
     * (hash, signature algorithm) without constraints.
     */
    public boolean disablesHandshakeSignature(String scheme, String... parts) {
        for (Entry e : entries) {
            if (e.matches(scheme) && (!e.constrained() || e.usages().contains("handshakesignature"))) {
                return true;
            }
        }
        return disables(parts);
    }

    /** Whether a key or group of {@code algorithm} and {@code bits} is disabled by a {@code keySize} limit. */
    public boolean disablesSize(String algorithm, int bits) {
        for (Entry e : entries) {
            if (e.op() != null && e.matches(algorithm) && holds(bits, e.op(), e.limit())) {
                return true;
            }
        }
        return false;
    }

    private static boolean holds(int bits, String op, int limit) {
        return switch (op) {
            case "<" -> bits < limit;
            case "<=" -> bits <= limit;
            case ">" -> bits > limit;
            case ">=" -> bits >= limit;
            case "==" -> bits == limit;
            case "!=" -> bits != limit;
            default -> false;
        };
    }
}
