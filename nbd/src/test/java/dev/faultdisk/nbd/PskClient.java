package dev.faultdisk.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/**
 * Bouncy Castle's PSK client, offering the given suites (null: its defaults), with TLS 1.3 too
 * where one of them is TLS 1.3's, as GnuTLS's clients offer it; it tells the suite chosen.
 */
final class PskClient extends PSKTlsClient {
    private final String identity;
    private final byte[] key;
    private final int[] suites;
    /** More identities offered after the first in TLS 1.3, with the same key. */
    private final List<String> more = new ArrayList<>();

    PskClient(String identity, byte[] key, int... suites) {
        super(new BcTlsCrypto(new SecureRandom()), new BasicTlsPSKIdentity(identity, key));
        this.identity = identity;
        this.key = key.clone();
        this.suites = suites;
    }

    /** Whether TLS 1.3 is offered without a key (a client of certificates, say). */
    private boolean noKeys;

    /** TLS 1.3's key shares sent, in order (null: Bouncy Castle's choice, X25519's alone). */
    private int[] shares;

    /**
     * Sends key shares of {@code groups}, in that order (TLS 1.3): Bouncy Castle sends them in
     * the order of its supported groups, so those come first there too, as with GnuTLS.
     */
    PskClient sharing(int... groups) {
        shares = groups.clone();
        return this;
    }

    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    protected Vector getSupportedGroups(Vector roles) {
        Vector groups = super.getSupportedGroups(roles);
        if (shares != null) {
            for (int i = shares.length - 1; i >= 0; i--) {
                groups.remove(Integer.valueOf(shares[i]));
                groups.add(0, shares[i]);
            }
        }
        return groups;
    }

    @Override
    @SuppressWarnings("unchecked") // Bouncy Castle's raw Vector
    public Vector<Integer> getEarlyKeyShareGroups() {
        if (shares == null) {
            return super.getEarlyKeyShareGroups();
        }
        Vector<Integer> groups = new Vector<>();
        for (int g : shares) {
            groups.add(g);
        }
        return groups;
    }

    /** Offers TLS 1.3 with no key at all. */
    PskClient withoutKeys() {
        noKeys = true;
        return this;
    }

    /** Offers {@code identities} too, after the first (TLS 1.3). */
    PskClient offering(String... identities) {
        more.addAll(Arrays.asList(identities));
        return this;
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return suites != null ? suites : super.getSupportedCipherSuites();
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return offersTls13() ? ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12) : super.getSupportedVersions();
    }

    /** The same key for TLS 1.3, bound as the server binds it. */
    @Override
    public Vector<TlsPSKExternal> getExternalPSKs() {
        Vector<TlsPSKExternal> keys = new Vector<>();
        if (offersTls13() && !noKeys) {
            List<String> names = new ArrayList<>(List.of(identity));
            names.addAll(more);
            for (String name : names) {
                keys.add(PskTls.tls13Key(getCrypto(), name.getBytes(StandardCharsets.UTF_8), key));
            }
        }
        return keys;
    }

    private boolean offersTls13() {
        return suites != null
                && Arrays.stream(suites)
                        .anyMatch(s -> TlsUtils.isValidVersionForCipherSuite(s, ProtocolVersion.TLSv13));
    }

    /** The client's application traffic keys now (TLS 1.3). */
    Tls13TrafficKeys sendKeys() throws IOException {
        return Tls13TrafficKeys.of(context.getSecurityParametersConnection(), false, 16, "AES");
    }

    /** The server's application traffic keys now (TLS 1.3), as this client opens its records. */
    Tls13TrafficKeys receiveKeys() throws IOException {
        return Tls13TrafficKeys.of(context.getSecurityParametersConnection(), true, 16, "AES");
    }

    int suite() {
        return context.getSecurityParametersConnection().getCipherSuite();
    }
}
