package dev.faultdisk.nbd;

import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * TLS with pre-shared keys, as nbdkit's {@code --tls-psk=FILE} and QEMU's {@code tls-creds-psk}
 * offer it: a file of {@code USERNAME:HEXKEY} lines ({@code psktool} writes them). The JDK's TLS
 * has no PSK, so this uses Bouncy Castle's TLS API (TLS 1.3 with the key and an ephemeral ECDHE
 * share, or TLS 1.2 PSK suites with ECDHE/DHE), over the JDK's ciphers ({@link BcTlsCrypto}),
 * less what the JDK's TLS policy disables ({@link JdkTlsPolicy}), read as the keys are.
 */
public final class PskTls {
    private static final Logger LOG = Logger.getLogger(PskTls.class.getName());

    /** The versions, suites and groups a server offers, in its order: the JDK's policy applied. */
    record Offer(ProtocolVersion[] versions, int[] suites, int[] groups) {
        boolean tls13() {
            return Arrays.asList(versions).contains(ProtocolVersion.TLSv13);
        }
    }

    private final Map<String, byte[]> keys;
    private final Path file;
    private final Offer offer;

    private PskTls(Map<String, byte[]> keys, Path file) {
        this.keys = keys;
        this.file = file;
        JdkTlsPolicy policy = JdkTlsPolicy.current();
        this.offer = new Offer(
                policy.versions(PskServer.VERSIONS), policy.suites(PskServer.SUITES), policy.groups(TlsNames.GROUPS));
        if (offer.versions().length == 0 || offer.suites().length == 0 || offer.groups().length == 0) {
            LOG.warning("TLS with pre-shared keys: the JDK's policy (jdk.tls.disabledAlgorithms,"
                    + " jdk.tls.server.protocols, jdk.tls.namedGroups) leaves no version, suite or group;"
                    + " every handshake will fail");
        }
    }

    /** Reads {@code USERNAME:HEXKEY} lines; blank lines and lines starting with # are skipped. */
    public static PskTls load(Path file) throws IOException {
        Map<String, byte[]> keys = new LinkedHashMap<>();
        int n = 0;
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read the PSK file " + file + ": " + FileErrors.reason(e), e);
        }
        for (String line : lines) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            int colon = t.lastIndexOf(':');
            try {
                if (colon <= 0) {
                    throw new IllegalArgumentException("no ':'");
                }
                keys.put(t.substring(0, colon), HexFormat.of().parseHex(t.substring(colon + 1)));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ":" + n + ": not USERNAME:HEXKEY (" + e.getMessage() + ")", e);
            }
        }
        if (keys.isEmpty()) {
            throw new IOException(file + ": no USERNAME:HEXKEY line");
        }
        return new PskTls(keys, file);
    }

    /**
     * One key for {@code user}, made in memory rather than read from a file ({@code serve
     * --warm-up}'s private server); {@link #file} is then null.
     */
    public static PskTls of(String user, byte[] key) {
        return new PskTls(Map.of(user, key.clone()), null);
    }

    /**
     * A TLS 1.3 external key as this server binds it, for its clients too: to SHA-256, as GnuTLS
     * binds one (RFC 9258's default). A key bound otherwise on one side would not match the other.
     */
    public static TlsPSKExternal tls13Key(TlsCrypto crypto, byte[] identity, byte[] key) {
        return new BasicTlsPSKExternal(identity, crypto.createSecret(key), PRFAlgorithm.tls13_hkdf_sha256);
    }

    /** The file the keys came from, or null for {@link #of}'s. */
    public Path file() {
        return file;
    }

    /** The first user in the file: the one a client example names. */
    public String firstUser() {
        return keys.keySet().iterator().next();
    }

    /**
     * Runs the server side of the handshake on {@code plain} (after the STARTTLS ACK), {@code
     * early} being bytes already read from it; bounded by {@code timeoutMillis}.
     */
    StreamChannel handshake(Socket plain, byte[] early, int timeoutMillis) throws IOException {
        TlsPSKIdentityManager identities = new TlsPSKIdentityManager() {
            @Override
            public byte[] getHint() {
                return null;
            }

            @Override
            public byte[] getPSK(byte[] identity) {
                byte[] key = keys.get(new String(identity, StandardCharsets.UTF_8));
                return key == null ? null : key.clone();
            }
        };
        return BcTlsChannel.accept(
                plain, early, timeoutMillis, new PskServer(identities, offer), "PSK handshake failed: ");
    }
}
