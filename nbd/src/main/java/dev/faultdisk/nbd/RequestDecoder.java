package dev.faultdisk.nbd;

import java.nio.ByteBuffer;

/**
 * Decodes transmission requests from a byte stream. Pure: bytes in, headers out, no I/O, so it
 * is tested with input split at every position. A payload (WRITE) is not consumed here.
 */
public final class RequestDecoder {
    public static final int HEADER_SIZE = 28;

    private RequestDecoder() {}

    /**
     * Decodes one header from {@code in} into {@code out} and advances {@code in} past it.
     *
     * @return false, consuming nothing, if fewer than 28 bytes are available
     * @throws ProtocolException if the magic is wrong: the stream cannot be resynchronised
     */
    public static boolean decode(ByteBuffer in, RequestHeader out) throws ProtocolException {
        if (in.remaining() < HEADER_SIZE) {
            return false;
        }
        int p = in.position();
        int magic = in.getInt(p);
        if (magic != NbdProtocol.REQUEST_MAGIC) {
            throw new ProtocolException(String.format("bad request magic 0x%08x", magic));
        }
        out.flags = Short.toUnsignedInt(in.getShort(p + 4));
        out.type = Short.toUnsignedInt(in.getShort(p + 6));
        out.cookie = in.getLong(p + 8);
        out.offset = in.getLong(p + 16);
        out.length = Integer.toUnsignedLong(in.getInt(p + 24));
        in.position(p + HEADER_SIZE);
        return true;
    }

    /** Encodes a request (used by tests and the in-process client). */
    public static void encode(ByteBuffer out, int flags, int type, long cookie, long offset, long length) {
        out.putInt(NbdProtocol.REQUEST_MAGIC);
        out.putShort((short) flags);
        out.putShort((short) type);
        out.putLong(cookie);
        out.putLong(offset);
        out.putInt((int) length);
    }
}
