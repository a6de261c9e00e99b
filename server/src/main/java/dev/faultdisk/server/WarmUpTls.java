package dev.faultdisk.server;

import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.wire.net.ChannelSocket;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Vector;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NameType;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.ServerName;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/**
 * TLS for the warm-up ({@link WarmUp}) when the real server speaks it, so that the first client's
 * handshake (its key exchange and signature run in the interpreter until the JIT has seen them:
 * 477 ms for a fresh server's first {@code nbdinfo} over TLS against 40 for the next,
 * docs/BENCHMARKS.md, "This round (after cc9026a)") and its records start warm too. With
 * certificates, the private server presents the real ones (client certificates not asked for)
 * and the client trusts the directory's {@code ca-cert.pem}, as any client would, without a check
 * of the name: it reaches the private server on the loopback address or a Unix socket of its own.
 * With pre-shared keys both ends share a key made for the warm-up alone, so the real file's keys
 * are used by the real server only.
 */
sealed interface WarmUpTls {
    /** The client's TLS session: its streams, and how to end it (close_notify, then the socket). */
    record Session(InputStream in, OutputStream out, Closeable end) {}

    /** For the real server's {@code options}: null when it speaks no TLS. */
    static WarmUpTls of(NbdServer.Options options) throws IOException {
        if (options.tlsMode() == TlsMode.OFF) {
            return null;
        }
        if (options.psk() != null) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            return new Psk(key);
        }
        TlsCredentials real = options.tls();
        if (real.directory() == null) {
            throw new IOException("warm-up: the TLS credentials name no directory whose ca-cert.pem to trust");
        }
        TlsCredentials server = new TlsCredentials(real.context(), true, false, real.directory(), real.suites());
        return new X509(server, TlsCredentials.client(real.directory()));
    }

    /** {@code options} (the private server's, TLS off) with this TLS in {@code mode}. */
    NbdServer.Options serve(NbdServer.Options options, TlsMode mode);

    /**
     * The client's side of handshake number {@code n} on {@code channel}, after the server's
     * STARTTLS ACK. Clients name the server (SNI) and differ in the key exchange they offer first,
     * so the handshakes take turns: as GnuTLS's clients (libnbd, QEMU) with secp256r1 first, as the
     * JDK's and OpenSSL's with x25519, and with secp256r1 alone (the server takes X25519 where it
     * is shared). Each first use would otherwise load and run cold code in the
     * first real client's handshake (the name's IDN check alone loads two dozen classes).
     */
    Session secure(SocketChannel channel, int n) throws IOException;

    /** The name the warm-up's clients ask for. */
    String SERVER_NAME = "localhost";

    /** Certificates: the real ones on the server's side, the directory's CA on the client's. */
    record X509(TlsCredentials server, TlsCredentials client) implements WarmUpTls {
        /** The server takes X25519 from the first two (CertServer, or EngineTls), secp256r1 from the third. */
        private static final String[][] GROUPS = {{"secp256r1", "x25519"}, {"x25519", "secp256r1"}, {"secp256r1"}};

        @Override
        public NbdServer.Options serve(NbdServer.Options options, TlsMode mode) {
            return options.withTls(mode, server);
        }

        @Override
        public Session secure(SocketChannel channel, int n) throws IOException {
            Socket plain = ChannelSocket.of(channel);
            SSLSocket tls = (SSLSocket)
                    client.context().getSocketFactory().createSocket(plain, SERVER_NAME, plain.getPort(), true);
            tls.setUseClientMode(true);
            // The name is sent, not checked: the private server is reached by address.
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(SERVER_NAME)));
            parameters.setNamedGroups(GROUPS[n % GROUPS.length]);
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            return new Session(tls.getInputStream(), tls.getOutputStream(), tls);
        }
    }

    /**
     * Pre-shared keys: one key, made for the warm-up, on both sides. Three handshakes in four
     * offer TLS 1.3 (with an X25519 or a secp256r1 share in turns: left cold, the first real
     * client's secp256r1 exchange took 70 ms), the fourth TLS 1.2 alone.
     */
    final class Psk implements WarmUpTls {
        private static final String USER = "warm-up";
        /** The server picks its own first of these (PskTls), the ones it agrees on with GnuTLS's clients. */
        private static final int[] SUITES = {
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
        };

        private final byte[] key;

        Psk(byte[] key) {
            this.key = key.clone();
        }

        @Override
        public NbdServer.Options serve(NbdServer.Options options, TlsMode mode) {
            return options.withPsk(mode, PskTls.of(USER, key));
        }

        @Override
        public Session secure(SocketChannel channel, int n) throws IOException {
            boolean tls13 = n % 4 != 3;
            // Bouncy Castle's streams block without a timeout: the warm-up's watchdog bounds them.
            TlsClientProtocol protocol =
                    new TlsClientProtocol(Channels.newInputStream(channel), Channels.newOutputStream(channel));
            protocol.connect(new PSKTlsClient(new BcTlsCrypto(new SecureRandom()), new BasicTlsPSKIdentity(USER, key)) {
                @Override
                protected int[] getSupportedCipherSuites() {
                    return SUITES.clone();
                }

                @Override
                protected ProtocolVersion[] getSupportedVersions() {
                    return tls13
                            ? ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12)
                            : ProtocolVersion.TLSv12.only();
                }

                /**
                 * A share of one group, in turns: X25519's first (the server takes it wherever a
                 * client sends one, as GnuTLS's clients do), then secp256r1's (a client sending it alone).
                 */
                @Override
                public Vector<Integer> getEarlyKeyShareGroups() {
                    Vector<Integer> share = new Vector<>();
                    share.add(n % 2 == 0 ? NamedGroup.x25519 : NamedGroup.secp256r1);
                    return share;
                }

                @Override
                public Vector<TlsPSKExternal> getExternalPSKs() {
                    Vector<TlsPSKExternal> keys = new Vector<>();
                    if (tls13) {
                        keys.add(PskTls.tls13Key(getCrypto(), USER.getBytes(StandardCharsets.UTF_8), key));
                    }
                    return keys;
                }

                @Override
                protected Vector<ServerName> getSNIServerNames() {
                    Vector<ServerName> names = new Vector<>();
                    names.add(new ServerName(NameType.host_name, SERVER_NAME.getBytes(StandardCharsets.US_ASCII)));
                    return names;
                }
            });
            return new Session(protocol.getInputStream(), protocol.getOutputStream(), () -> {
                try {
                    protocol.close();
                } finally {
                    channel.close();
                }
            });
        }
    }
}
