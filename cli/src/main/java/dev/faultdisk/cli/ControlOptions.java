package dev.faultdisk.cli;

import dev.faultdisk.client.ControlAddress;
import dev.faultdisk.client.ControlSecurity;
import dev.faultdisk.wire.net.ControlEndpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Options every command that talks to a running server shares. */
final class ControlOptions {
    @Option(
            names = "--qmp",
            paramLabel = "HOST:PORT|unix:PATH",
            defaultValue = "${env:FAULTDISK_QMP:-" + ControlAddress.DEFAULT + "}",
            description = "The server's QMP control socket (default: ${DEFAULT-VALUE}; or set FAULTDISK_QMP).")
    String qmp;

    @Option(names = "--json", description = "Print JSON for scripts instead of text.")
    boolean json;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "30s",
            description = "Bound for connecting, each reply and any wait (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(
            names = "--qmp-tls-certificates",
            paramLabel = "DIR",
            defaultValue = "${env:FAULTDISK_QMP_TLS_CERTIFICATES}",
            description = "Connect over TLS, trusting ca-cert.pem in DIR and presenting client-cert.pem "
                    + "+ client-key.pem if DIR has them (or set FAULTDISK_QMP_TLS_CERTIFICATES).")
    Path tlsCertificates;

    @Option(
            names = "--qmp-secret-file",
            paramLabel = "FILE",
            defaultValue = "${env:FAULTDISK_QMP_SECRET_FILE}",
            description =
                    "The shared secret the server asks for, on the first line of FILE (or set FAULTDISK_QMP_SECRET_FILE).")
    Path secretFile;

    /** The TLS credentials and secret these options name. */
    ControlSecurity security() throws IOException {
        ControlSecurity security =
                tlsCertificates == null ? ControlSecurity.NONE : ControlSecurity.tls(tlsCertificates);
        return secretFile == null ? security : security.withSecret(ControlEndpoint.readSecret(secretFile));
    }
}
