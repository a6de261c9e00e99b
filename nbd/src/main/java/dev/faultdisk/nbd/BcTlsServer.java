package dev.faultdisk.nbd;

import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.ClientHello;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsServer;

/**
 * A server end of Bouncy Castle's TLS whose records this server reads and writes itself
 * ({@link BcTlsChannel}): with pre-shared keys ({@link PskServer}) or certificates ({@link
 * CertServer}).
 */
interface BcTlsServer extends TlsServer {
    /**
     * Whether a TLS 1.2 client that does not say it knows RFC 5746's secure renegotiation is let
     * in, as the JDK's engine lets it in unless {@code -Dsun.security.ssl.allowLegacyHelloMessages=false}
     * and GnuTLS's servers (nbdkit's) do: Bouncy Castle's servers never renegotiate (a
     * renegotiating ClientHello is refused), which is what the extension protects. Bouncy
     * Castle's default refused such a client (GnuTLS's {@code %NO_EXTENSIONS}).
     */
    boolean LEGACY_HELLOS = !"false".equals(System.getProperty("sun.security.ssl.allowLegacyHelloMessages"));

    /** For {@code notifySecureRenegotiation}: a client without secure renegotiation in, as {@link #LEGACY_HELLOS} says. */
    static void checkRenegotiation(boolean secure) throws TlsFatalAlert {
        if (!secure && !LEGACY_HELLOS) {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "the client lacks secure renegotiation");
        }
    }

    /** What the client offered, before the server chooses ({@link BcServerProtocol}). */
    void clientHelloReceived(ClientHello hello);

    /** TLS 1.3: the group of the key share the server chose ({@link BcServerProtocol}). */
    void keyShareChosen(int group);

    /** A reason for a failed handshake ("; ..."), or "" if none is known. */
    String refusal();

    /** The connection's AES-GCM or ChaCha20-Poly1305 record cipher, or null if another suite was agreed. */
    AeadRecordCipher aead();

    /** The version, suite and (TLS 1.3) key share agreed, as {@link TlsNames#session} names them. */
    String session();
}
