package dev.faultdisk.nbd;

/**
 * What a connection is doing, as {@link NbdServer#connections()} reports it: a hook for tests and
 * queries that does not depend on thread names or stack traces.
 *
 * @param id           the connection id (what fault rules call {@code connection})
 * @param export       the export it chose, or null during the handshake
 * @param phase        where it is in its life
 * @param writingReply true while a reply write to its socket is under way; a client that stops
 *                     reading keeps it true
 * @param tls          the TLS version and cipher suite agreed ({@code "TLSv1.3 TLS_AES_128_GCM_SHA256"}),
 *                     or null for a plaintext connection
 */
public record ConnectionInfo(long id, String export, Phase phase, boolean writingReply, String tls) {

    /** A connection's life. */
    public enum Phase {
        /** Greeting and options. */
        HANDSHAKE,
        /** Reading and answering requests. */
        TRANSMISSION,
        /** The client's input ended (end of stream or DISC): answering what was already read. */
        DRAINING,
        /** Closed. */
        CLOSED
    }
}
