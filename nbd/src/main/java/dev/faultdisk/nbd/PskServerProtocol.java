package dev.faultdisk.nbd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.bouncycastle.tls.TlsServerProtocol;

/**
 * Bouncy Castle's server protocol, told of the TLS 1.3 KeyUpdates that {@link PskRecordInput}
 * reads past its record layer. Bouncy Castle then does what it does for one it read itself: it
 * moves the client's traffic secret on, rekeys the record cipher's receiving side and, if the
 * client asked for one back, sends a KeyUpdate of its own before its next application data
 * (RFC 8446, 4.6.3), under its record lock, so never inside another record.
 */
final class PskServerProtocol extends TlsServerProtocol {
    PskServerProtocol(InputStream input, OutputStream output) {
        super(input, output);
    }

    /**
     * A KeyUpdate's body, {@code request}: 1 if the client asked for one back, 0 if not, anything
     * else refused with illegal_parameter (reader thread).
     */
    void keyUpdateReceived(byte request) throws IOException {
        receive13KeyUpdate(new ByteArrayInputStream(new byte[] {request}));
    }
}
