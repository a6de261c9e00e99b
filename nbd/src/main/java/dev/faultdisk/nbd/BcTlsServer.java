package dev.faultdisk.nbd;

import org.bouncycastle.tls.ClientHello;
import org.bouncycastle.tls.TlsServer;

/**
 * A server end of Bouncy Castle's TLS whose records this server reads and writes itself
 * ({@link BcTlsChannel}): with pre-shared keys ({@link PskServer}) or certificates ({@link
 * CertServer}).
 */
interface BcTlsServer extends TlsServer {
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
