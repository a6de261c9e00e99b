package dev.faultdisk.wire.net;

import dev.faultdisk.wire.FileErrors;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * How a control socket (QMP, and any other control listener) protects itself: TLS, a shared
 * secret, and budgets for sessions. The secret is this project's addition to QMP (QEMU's monitor
 * has no authentication of its own): a client proves it with the first command it sends.
 *
 * @param tls             server credentials, or null for plaintext
 * @param secret          the shared secret a client must present, or null for none
 * @param maxSessions     sessions open at once; one more is refused with an error naming the limit
 * @param maxSessionBytes bytes one session may have buffered for an unfinished message (the
 *                        parsed form costs more than the text: this bounds both)
 * @param handshakeMillis time a client has to finish the TLS handshake
 */
public record ControlEndpoint(
        TlsCredentials tls, String secret, int maxSessions, int maxSessionBytes, int handshakeMillis) {
    public static final int DEFAULT_MAX_SESSIONS = 32;
    public static final int DEFAULT_MAX_SESSION_BYTES = 1 << 20;
    public static final int DEFAULT_HANDSHAKE_MILLIS = 10_000;
    /** The least session budget: room for any command a client sends in practice. */
    public static final int MIN_SESSION_BYTES = 1024;

    public ControlEndpoint {
        if (maxSessions < 1 || maxSessionBytes < MIN_SESSION_BYTES || handshakeMillis < 1) {
            throw new IllegalArgumentException("control endpoint budgets must be positive (maxSessions " + maxSessions
                    + ", maxSessionBytes " + maxSessionBytes + " of at least " + MIN_SESSION_BYTES
                    + ", handshakeMillis " + handshakeMillis + ")");
        }
        if (secret != null && secret.isEmpty()) {
            throw new IllegalArgumentException("the control secret is empty");
        }
        if (tls != null && !tls.server()) {
            throw new IllegalArgumentException("a control endpoint needs server credentials");
        }
    }

    /** Plaintext, no secret, default budgets. */
    public static ControlEndpoint defaults() {
        return new ControlEndpoint(
                null, null, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSION_BYTES, DEFAULT_HANDSHAKE_MILLIS);
    }

    public ControlEndpoint withTls(TlsCredentials tls) {
        return new ControlEndpoint(tls, secret, maxSessions, maxSessionBytes, handshakeMillis);
    }

    public ControlEndpoint withSecret(String secret) {
        return new ControlEndpoint(tls, secret, maxSessions, maxSessionBytes, handshakeMillis);
    }

    public ControlEndpoint withMaxSessions(int maxSessions) {
        return new ControlEndpoint(tls, secret, maxSessions, maxSessionBytes, handshakeMillis);
    }

    public ControlEndpoint withMaxSessionBytes(int maxSessionBytes) {
        return new ControlEndpoint(tls, secret, maxSessions, maxSessionBytes, handshakeMillis);
    }

    public ControlEndpoint withHandshakeMillis(int handshakeMillis) {
        return new ControlEndpoint(tls, secret, maxSessions, maxSessionBytes, handshakeMillis);
    }

    /** Reads a secret from the first line of {@code file} (surrounding blanks dropped). */
    public static String readSecret(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IOException("cannot read the secret file " + file + ": " + FileErrors.reason(e), e);
        }
        int newline = text.indexOf('\n');
        String secret = (newline < 0 ? text : text.substring(0, newline)).strip();
        if (secret.isEmpty()) {
            throw new IOException("secret file " + file + " is empty");
        }
        return secret;
    }

    /** Whether {@code given} is the secret (constant time); true when no secret is set. */
    public boolean secretMatches(String given) {
        if (secret == null) {
            return true;
        }
        return given != null
                && MessageDigest.isEqual(
                        secret.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether a listener on {@code address} with these settings deserves a warning: reachable from afar, in clear. */
    public boolean exposed(SocketAddress address) {
        return tls == null && !isLoopback(address);
    }

    /** True for Unix sockets and loopback addresses. */
    public static boolean isLoopback(SocketAddress address) {
        return !(address instanceof InetSocketAddress inet)
                || (inet.getAddress() != null && inet.getAddress().isLoopbackAddress());
    }

    /**
     * The channel a session reads and writes: {@code accepted} itself, or a TLS session over it
     * once the handshake (bounded by {@link #handshakeMillis}) is done.
     */
    public ByteChannel open(SocketChannel accepted) throws IOException {
        if (tls == null) {
            return accepted;
        }
        return tls.secure(ChannelSocket.of(accepted), new byte[0], null, handshakeMillis);
    }
}
