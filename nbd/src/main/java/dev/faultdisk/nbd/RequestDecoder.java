package dev.faultdisk.nbd;

import java.nio.ByteBuffer;

/**
 * Decodes transmission requests from a byte stream: compact (28 bytes) or, where negotiated,
 * extended (32 bytes, a 64-bit length). Pure: bytes in, headers out, no I/O, so it is tested with
 * input split at every position. A payload (WRITE) is not consumed here.
 */
public final class RequestDecoder {
    public static final int HEADER_SIZE = 28;
    public static final int EXTENDED_HEADER_SIZE = 32;

    private RequestDecoder() {}

    /** Decodes one compact header: {@link #decode(ByteBuffer, RequestHeader, boolean)} without extended headers. */
    public static boolean decode(ByteBuffer in, RequestHeader out) throws ProtocolException {
        return decode(in, out, false);
    }

    /** Decodes one extended header: {@link #decode(ByteBuffer, RequestHeader, boolean)} with extended headers. */
    public static boolean decodeExtended(ByteBuffer in, RequestHeader out) throws ProtocolException {
        return decode(in, out, true);
    }

    /**
     * Decodes one header from {@code in} into {@code out} and advances {@code in} past it: 28
     * bytes, or 32 if {@code extended}, whose length is unsigned 64-bit (a negative {@code
     * out.length} then means 2^63 or more).
     *
     * @return false, consuming nothing, if the header is not all there yet
     * @throws ProtocolException if the magic is wrong (a compact header where an extended one is
     *     due included): the stream cannot be resynchronised
     */
    public static boolean decode(ByteBuffer in, RequestHeader out, boolean extended) throws ProtocolException {
        int size = headerSize(extended);
        if (in.remaining() < size) {
            return false;
        }
        int p = in.position();
        int magic = in.getInt(p);
        if (magic != (extended ? NbdProtocol.EXTENDED_REQUEST_MAGIC : NbdProtocol.REQUEST_MAGIC)) {
            throw new ProtocolException(
                    String.format("bad %srequest magic 0x%08x", extended ? "extended " : "", magic));
        }
        out.flags = Short.toUnsignedInt(in.getShort(p + 4));
        out.type = Short.toUnsignedInt(in.getShort(p + 6));
        out.cookie = in.getLong(p + 8);
        out.offset = in.getLong(p + 16);
        out.length = extended ? in.getLong(p + 24) : Integer.toUnsignedLong(in.getInt(p + 24));
        in.position(p + size);
        return true;
    }

    /** The bytes of one request header: 28, or 32 with extended headers. */
    public static int headerSize(boolean extended) {
        return extended ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
    }

    /** Encodes a compact request (used by tests and the in-process client). */
    public static void encode(ByteBuffer out, int flags, int type, long cookie, long offset, long length) {
        encode(out, flags, type, cookie, offset, length, false);
    }

    /** Encodes a request, compact (a 32-bit length) or extended (a 64-bit one). */
    public static void encode(
            ByteBuffer out, int flags, int type, long cookie, long offset, long length, boolean extended) {
        out.putInt(extended ? NbdProtocol.EXTENDED_REQUEST_MAGIC : NbdProtocol.REQUEST_MAGIC);
        out.putShort((short) flags);
        out.putShort((short) type);
        out.putLong(cookie);
        out.putLong(offset);
        if (extended) {
            out.putLong(length);
        } else {
            out.putInt((int) length);
        }
    }
}
