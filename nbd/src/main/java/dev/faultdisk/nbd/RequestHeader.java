package dev.faultdisk.nbd;

/**
 * A decoded transmission request (28 bytes, or 32 extended). Mutable and reused by the connection's reader so that
 * decoding allocates nothing per request; copy the fields out before handing a request elsewhere.
 */
public final class RequestHeader implements Cloneable {
    public int flags;
    public int type;
    public long cookie;
    public long offset;
    /**
     * The length: unsigned 32-bit, widened, or under extended headers unsigned 64-bit (negative
     * here for 2^63 and more).
     */
    public long length;
    /** The request's place among the connection's requests that reach the device stack (from 1), or 0. */
    public long sequence;
    /** {@link System#nanoTime()} when it arrived, if the export times its requests (else 0). */
    public long arrival;

    /**
     * A copy, for a request that outlives the reader's next decode. A field-for-field clone: the
     * fields are all primitives, and a field added later is copied too.
     */
    public RequestHeader copy() {
        try {
            return (RequestHeader) clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e); // it is Cloneable
        }
    }

    @Override
    public String toString() {
        return NbdProtocol.commandName(type) + " flags=" + flags + " cookie=" + cookie + " offset=" + offset
                + " length=" + length;
    }
}
