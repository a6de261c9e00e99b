package dev.faultdisk.cli;

import dev.faultdisk.device.Sizes;
import dev.faultdisk.device.SlabMemory;
import dev.faultdisk.fault.FaultEngine;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.LongConsumer;
import picocli.CommandLine.Option;

/** {@code faultdisk serve}'s TLS, secret and budget options (docs/SECURITY.md), with or without --config. */
final class ServeLimits {
    @Option(
            names = "--tls",
            paramLabel = "off|on|require",
            defaultValue = "off",
            description = "NBD over TLS (STARTTLS): on lets the client choose, require refuses plaintext "
                    + "(default: ${DEFAULT-VALUE}). Needs --tls-certificates.")
    String tls;

    @Option(
            names = "--tls-certificates",
            paramLabel = "DIR",
            description =
                    "ca-cert.pem, server-cert.pem and server-key.pem for NBD TLS (nbdkit's and qemu-nbd's layout).")
    Path tlsCertificates;

    @Option(
            names = "--tls-psk",
            paramLabel = "FILE",
            description = "NBD TLS with pre-shared keys from FILE (USERNAME:HEXKEY lines, as psktool writes) "
                    + "instead of certificates.")
    Path tlsPsk;

    @Option(names = "--tls-verify-peer", description = "NBD clients must present a certificate signed by ca-cert.pem.")
    boolean tlsVerifyPeer;

    @Option(
            names = "--tls-ciphers",
            paramLabel = "LIST",
            split = ",",
            description = "Cipher suites NBD TLS with certificates accepts, in the order the server prefers them "
                    + "(IANA's names, as the JDK gives them, e.g. TLS_AES_256_GCM_SHA384; AES-CCM's too, e.g. "
                    + "TLS_AES_128_CCM_SHA256). Default: the server's order, AES-128-GCM first.")
    List<String> tlsCiphers;

    @Option(
            names = "--max-connections",
            paramLabel = "N",
            defaultValue = "" + NbdServer.Options.DEFAULT_MAX_CONNECTIONS,
            description = "NBD connections open at once; more are closed at once (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(
            names = "--max-in-flight",
            paramLabel = "N",
            defaultValue = "" + NbdServer.Options.DEFAULT_MAX_IN_FLIGHT,
            description = "Requests of one NBD connection running at once (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(
            names = "--payload-budget",
            paramLabel = "SIZE",
            defaultValue = "256M",
            description = "Memory for request payloads, server-wide; a request that finds it spent fails with "
                    + "ENOMEM (default: ${DEFAULT-VALUE}, at least 32M).")
    String payloadBudget;

    @Option(
            names = "--handshake-timeout",
            paramLabel = "DURATION",
            defaultValue = "10s",
            description = "Time an NBD client has to choose an export, TLS included (default: ${DEFAULT-VALUE}).")
    Duration handshakeTimeout;

    @Option(
            names = "--qmp-tls-certificates",
            paramLabel = "DIR",
            description = "Serve QMP over TLS with ca-cert.pem, server-cert.pem and server-key.pem from DIR "
                    + "(the layout nbdkit and qemu-nbd use).")
    Path qmpTls;

    @Option(
            names = "--qmp-tls-verify-peer",
            description = "QMP clients must present a certificate signed by ca-cert.pem.")
    boolean qmpVerifyPeer;

    @Option(
            names = "--qmp-secret-file",
            paramLabel = "FILE",
            description = "QMP clients must send the secret on FILE's first line as qmp_capabilities' \"secret\" "
                    + "argument (this project's addition to QMP); a wrong one ends the session.")
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
            defaultValue = "1M",
            description = "Bytes one QMP session may buffer of an unfinished message (default: ${DEFAULT-VALUE}).")
    String qmpMaxSessionBytes;

    @Option(
            names = "--max-rules",
            paramLabel = "N",
            defaultValue = "" + FaultEngine.DEFAULT_MAX_RULES,
            description = "Fault rules one export may have, and blkdebug rules apart; fault-add or blkdebug-set-rules "
                    + "past it is refused (default: ${DEFAULT-VALUE}).")
    int maxRules;

    @Option(
            names = "--max-held",
            paramLabel = "N",
            defaultValue = "" + FaultEngine.DEFAULT_MAX_HELD,
            description = "Requests held at once per export; one more fails with ENOMEM (default: ${DEFAULT-VALUE}).")
    int maxHeld;

    @Option(
            names = "--max-held-bytes",
            paramLabel = "SIZE",
            defaultValue = "256M",
            description = "Bytes of writes held at once per export (default: ${DEFAULT-VALUE}).")
    String maxHeldBytes;

    @Option(
            names = "--memory-limit",
            paramLabel = "SIZE",
            description = "Memory all memory exports' data may take at once, mapped outside the JVM's heap and "
                    + "direct memory; a write that needs more fails with ENOSPC (default: the machine's memory, "
                    + "or its container's; at least 2M).")
    String memoryLimit;

    @Option(
            names = "--memory-reserve",
            paramLabel = "SIZE",
            description = "Memory that memory exports leave to the rest of the system: a write that needs more "
                    + "memory while the system has less than this available (MemAvailable; in a container with "
                    + "a memory limit, the room below it where less) fails with ENOSPC, "
                    + "rather than the OOM killer choosing a process (default: a 32nd of the machine's memory, "
                    + "from 64M to 1G; 0 turns it off).")
    String memoryReserve;

    /** Applies the options to {@code builder}; an unreadable file or a bad value throws with a message. */
    void apply(FaultdiskServer.Builder builder) throws IOException {
        atLeast(maxConnections, 1, "--max-connections");
        atLeast(maxInFlight, 1, "--max-in-flight");
        atLeast(qmpMaxSessions, 1, "--qmp-max-sessions");
        atLeast(maxRules, 1, "--max-rules");
        atLeast(maxHeld, 1, "--max-held");
        // The process's memory exports: one server a process.
        setSize(memoryLimit, "--memory-limit", SlabMemory.process()::limit);
        setSize(memoryReserve, "--memory-reserve", SlabMemory.process()::systemReserve);
        long heldBytes = Sizes.parse(maxHeldBytes);
        atLeast(heldBytes, 1, "--max-held-bytes");
        int sessionBytes = intSize(qmpMaxSessionBytes, "--qmp-max-session-bytes");
        atLeast(sessionBytes, ControlEndpoint.MIN_SESSION_BYTES, "--qmp-max-session-bytes");
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("--handshake-timeout must be more than 0");
        }
        ControlEndpoint qmp =
                ControlEndpoint.defaults().withMaxSessions(qmpMaxSessions).withMaxSessionBytes(sessionBytes);
        if (qmpTls != null) {
            qmp = qmp.withTls(TlsCredentials.server(qmpTls, qmpVerifyPeer));
        } else if (qmpVerifyPeer) {
            throw new IllegalArgumentException("--qmp-tls-verify-peer needs --qmp-tls-certificates");
        }
        if (qmpSecret != null) {
            qmp = qmp.withSecret(ControlEndpoint.readSecret(qmpSecret));
        }
        builder.qmpEndpoint(qmp);
        builder.faultLimits(maxRules, maxHeld, heldBytes);

        TlsMode mode = TlsMode.parse(tls);
        TlsCredentials nbdTls = null;
        if (tlsCertificates != null) {
            nbdTls = TlsCredentials.server(tlsCertificates, tlsVerifyPeer);
            if (tlsCiphers != null) {
                try {
                    nbdTls = nbdTls.withSuites(tlsCiphers, NbdServer.certificateSuitesBeyondJdk());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--tls-ciphers: " + e.getMessage(), e);
                }
            }
        } else if (tlsVerifyPeer) {
            throw new IllegalArgumentException("--tls-verify-peer needs --tls-certificates DIR");
        } else if (tlsCiphers != null) {
            throw new IllegalArgumentException(
                    "--tls-ciphers needs --tls-certificates DIR (pre-shared keys have their own suites)");
        }
        PskTls psk = tlsPsk == null ? null : PskTls.load(tlsPsk);
        if (mode != TlsMode.OFF && nbdTls == null && psk == null) {
            throw new IllegalArgumentException("--tls " + mode + " needs --tls-certificates DIR or --tls-psk FILE");
        }
        if ((nbdTls != null || psk != null) && mode == TlsMode.OFF) {
            throw new IllegalArgumentException("TLS credentials given but --tls is off: say --tls on or require");
        }
        builder.nbdOptions(new NbdServer.Options(
                maxConnections, maxInFlight, Sizes.parse(payloadBudget), handshakeTimeout, mode, nbdTls, psk));
    }

    /** A budget below {@code least} is refused naming its option, before any server part sees it. */
    private static void atLeast(long value, long least, String option) {
        if (value < least) {
            throw new IllegalArgumentException(option + " must be at least " + least + ", got " + value);
        }
    }

    /** Gives {@code set} the size {@code text} names, if given; a bad one throws naming {@code option}. */
    private static void setSize(String text, String option, LongConsumer set) {
        if (text == null) {
            return;
        }
        try {
            set.accept(Sizes.parse(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    private static int intSize(String text, String option) {
        long n = Sizes.parse(text);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(option + " must be below 2G, not " + text);
        }
        return (int) n;
    }
}
