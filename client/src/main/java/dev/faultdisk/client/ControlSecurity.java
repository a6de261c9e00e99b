package dev.faultdisk.client;

import dev.faultdisk.wire.net.TlsCredentials;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How the client proves itself to a protected control socket: TLS (the server's certificate is
 * checked against the CA; a client certificate is sent if the directory has one) and the shared
 * secret a server started with {@code --qmp-secret-file} asks for.
 *
 * @param tls    client credentials, or null for plaintext
 * @param secret the shared secret, or null
 */
public record ControlSecurity(TlsCredentials tls, String secret) {
    public static final ControlSecurity NONE = new ControlSecurity(null, null);

    public ControlSecurity {
        if (tls != null && tls.server()) {
            throw new IllegalArgumentException("the client needs client credentials");
        }
    }

    /** TLS with the CA (and client certificate, if present) in {@code dir}: {@code ca-cert.pem}, {@code client-*.pem}. */
    public static ControlSecurity tls(Path dir) throws IOException {
        return new ControlSecurity(TlsCredentials.client(dir), null);
    }

    public ControlSecurity withSecret(String secret) {
        return new ControlSecurity(tls, secret);
    }
}
