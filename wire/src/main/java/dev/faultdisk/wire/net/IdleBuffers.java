package dev.faultdisk.wire.net;

/**
 * A stream under a {@link StreamChannel} (a TLS layer's, say) that can give its buffers back while
 * its connection waits idle, and take them again when it is next used.
 */
public interface IdleBuffers {
    /**
     * Gives back what the stream holds and need not (an input stream: when nothing is buffered;
     * an output stream: called with no write under way). True if it holds nothing lent now.
     */
    boolean releaseIdle();

    /** For an input stream: true if input is buffered, or waits on the socket (reader thread). */
    default boolean inputWaiting() {
        return false;
    }

    /** Bytes of lent arrays the stream holds now (a snapshot, read from any thread). */
    long heldBytes();
}
