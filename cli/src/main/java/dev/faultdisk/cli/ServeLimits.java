package dev.faultdisk.cli;

import dev.faultdisk.device.Sizes;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.TlsCredentials;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code faultdisk serve}'s TLS, secret and budget options (docs/SECURITY.md), with or without --config. */
final class ServeLimits {
    @Option(
            names = "--qmp-tls-certificates",
            paramLabel = "DIR",
            description = {
                "Serve QMP over TLS with ca-cert.pem, server-cert.pem and server-key.pem from DIR",
                "(the layout nbdkit and qemu-nbd use)."
            })
    Path qmpTls;

    @Option(
            names = "--qmp-tls-verify-peer",
            description = "QMP clients must present a certificate signed by ca-cert.pem.")
    boolean qmpVerifyPeer;

    @Option(
            names = "--qmp-secret-file",
            paramLabel = "FILE",
            description = {
                "QMP clients must send the secret on FILE's first line as qmp_capabilities' \"secret\"",
                "argument (this project's addition to QMP); a wrong one ends the session."
            })
    Path qmpSecret;

    @Option(
            names = "--qmp-max-sessions",
            paramLabel = "N",
            defaultValue = "" + ControlEndpoint.DEFAULT_MAX_SESSIONS,
            description = "QMP sessions open at once; more are refused with an error (default: ${DEFAULT-VALUE}).")
    int qmpMaxSessions;

    @Option(
            names = "--qmp-max-session-bytes",
            paramLabel = "SIZE",
            defaultValue = "4M",
            description = "Bytes one QMP session may buffer of an unfinished message (default: ${DEFAULT-VALUE}).")
    String qmpMaxSessionBytes;

    /** Applies the options to {@code builder}; an unreadable file or a bad value throws with a message. */
    void apply(FaultdiskServer.Builder builder) throws IOException {
        ControlEndpoint qmp = ControlEndpoint.defaults()
                .withMaxSessions(qmpMaxSessions)
                .withMaxSessionBytes(intSize(qmpMaxSessionBytes, "--qmp-max-session-bytes"));
        if (qmpTls != null) {
            qmp = qmp.withTls(TlsCredentials.server(qmpTls, qmpVerifyPeer));
        } else if (qmpVerifyPeer) {
            throw new IllegalArgumentException("--qmp-tls-verify-peer needs --qmp-tls-certificates");
        }
        if (qmpSecret != null) {
            qmp = qmp.withSecret(ControlEndpoint.readSecret(qmpSecret));
        }
        builder.qmpEndpoint(qmp);
    }

    private static int intSize(String text, String option) {
        long n = Sizes.parse(text);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(option + " must be below 2G, not " + text);
        }
        return (int) n;
    }
}
