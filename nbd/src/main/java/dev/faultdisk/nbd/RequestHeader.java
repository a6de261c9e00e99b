package dev.faultdisk.nbd;

/**
 * A decoded 28-byte transmission request. Mutable and reused by the connection's reader so that
 * decoding allocates nothing per request; copy the fields out before handing a request elsewhere.
 */
public final class RequestHeader {
    public int flags;
    public int type;
    public long cookie;
    public long offset;
    /** Unsigned 32-bit length, widened. */
    public long length;
    /** The request's place among the connection's requests that reach the device stack (from 1), or 0. */
    public long sequence;
    /** {@link System#nanoTime()} when it arrived, if the export times its requests (else 0). */
    public long arrival;

    /** A copy, for a request that outlives the reader's next decode. */
    public RequestHeader copy() {
        RequestHeader c = new RequestHeader();
        c.flags = flags;
        c.type = type;
        c.cookie = cookie;
        c.offset = offset;
        c.length = length;
        c.sequence = sequence;
        c.arrival = arrival;
        return c;
    }

    @Override
    public String toString() {
        return NbdProtocol.commandName(type) + " flags=" + flags + " cookie=" + cookie + " offset=" + offset
                + " length=" + length;
    }
}
