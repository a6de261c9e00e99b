package dev.faultdisk.nbd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.bouncycastle.tls.ClientHello;
import org.bouncycastle.tls.KeyShareEntry;
import org.bouncycastle.tls.ServerHello;
import org.bouncycastle.tls.TlsExtensionsUtils;
import org.bouncycastle.tls.TlsServerProtocol;

/**
 * Bouncy Castle's server protocol, told of the TLS 1.3 KeyUpdates that {@link AeadRecordInput}
 * reads past its record layer. Bouncy Castle then does what it does for one it read itself: it
 * moves the client's traffic secret on, rekeys the record cipher's receiving side and, if the
 * client asked for one back, sends a KeyUpdate of its own before its next application data
 * (RFC 8446, 4.6.3), under its record lock, so never inside another record. It also shows
 * the server ({@link BcTlsServer}) the client's ClientHello (its key shares, versions and key exchange modes),
 * which Bouncy Castle's server API does not.
 */
final class BcServerProtocol extends TlsServerProtocol {
    BcServerProtocol(InputStream input, OutputStream output) {
        super(input, output);
    }

    /** Shows the server what the client offered, before it chooses. */
    @Override
    protected ClientHello receiveClientHelloMessage(ByteArrayInputStream message) throws IOException {
        ClientHello hello = super.receiveClientHelloMessage(message);
        if (tlsServer instanceof BcTlsServer server) {
            server.clientHelloReceived(hello);
        }
        return hello;
    }

    /** Tells the server the key share it chose, for the connection's log line (TLS 1.3). */
    @Override
    protected void sendServerHelloMessage(ServerHello hello) throws IOException {
        if (!hello.isHelloRetryRequest() && tlsServer instanceof BcTlsServer server) {
            KeyShareEntry share = TlsExtensionsUtils.getKeyShareServerHello(hello.getExtensions());
            if (share != null) {
                server.keyShareChosen(share.getNamedGroup());
            }
        }
        super.sendServerHelloMessage(hello);
    }

    /**
     * A KeyUpdate's body, {@code request}: 1 if the client asked for one back, 0 if not, anything
     * else refused with illegal_parameter (reader thread).
     */
    void keyUpdateReceived(byte request) throws IOException {
        receive13KeyUpdate(new ByteArrayInputStream(new byte[] {request}));
    }
}
