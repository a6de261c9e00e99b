package dev.faultdisk.wire.net;

import java.util.Locale;

/** Whether a listener offers TLS (nbdkit's and qemu-nbd's {@code --tls=off|on|require}). */
public enum TlsMode {
    /** Plaintext only: STARTTLS is refused. */
    OFF,
    /** TLS when the client asks for it (a downgrade is possible: the client chooses). */
    ON,
    /** TLS before anything else; plaintext clients get the protocol's refusal. */
    REQUIRE;

    public static TlsMode parse(String text) {
        try {
            return valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS mode must be off, on or require, not '" + text + "'", e);
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
