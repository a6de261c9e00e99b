package dev.faultdisk.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes transmission replies: simple replies and structured reply chunks. Pure: it writes into
 * the buffer it is given, which the caller sized with the constants and {@code size} methods here.
 * The counterpart of {@link RequestDecoder}.
 */
final class ReplyEncoder {
    /** Magic, error, cookie. */
    static final int SIMPLE_HEADER = 4 + 4 + 8;
    /** Magic, flags, type, cookie, payload length. */
    static final int CHUNK_HEADER = 4 + 2 + 2 + 8 + 4;
    /** An OFFSET_DATA chunk's payload starts with the offset of its data. */
    static final int DATA_OFFSET = 8;
    /** An OFFSET_HOLE chunk's payload: offset and length. */
    static final int HOLE_PAYLOAD = 8 + 4;
    /** A BLOCK_STATUS chunk's payload: the metadata context id, then the extents. */
    static final int STATUS_CONTEXT = 4;
    /** One extent: length and flags. */
    static final int EXTENT = 4 + 4;
    /** An error chunk's payload before its message: error and message length. */
    static final int ERROR_PREFIX = 4 + 2;
    /** ERROR_OFFSET adds the offset after the message. */
    static final int ERROR_OFFSET = 8;
    /** Error messages are cut to this many bytes of UTF-8. */
    static final int MAX_MESSAGE = 1024;

    private ReplyEncoder() {}

    /** The header before a read's data: a simple reply, or an OFFSET_DATA chunk header and offset. */
    static int readHeaderSize(boolean structured) {
        return structured ? CHUNK_HEADER + DATA_OFFSET : SIMPLE_HEADER;
    }

    static void simple(ByteBuffer out, int error, long cookie) {
        out.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    static void chunkHeader(ByteBuffer out, int flags, int type, long cookie, int length) {
        out.putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC)
                .putShort((short) flags)
                .putShort((short) type)
                .putLong(cookie)
                .putInt(length);
    }

    /** The header of a successful read of {@code length} bytes at {@code offset}; the data follows. */
    static void readHeader(ByteBuffer out, boolean structured, long cookie, long offset, int length) {
        if (structured) {
            chunkHeader(
                    out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, cookie, DATA_OFFSET + length);
            out.putLong(offset);
        } else {
            simple(out, 0, cookie);
        }
    }

    /** A successful read without data: a NONE chunk, or a simple reply. */
    static void emptyRead(ByteBuffer out, boolean structured, long cookie) {
        if (structured) {
            chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, cookie, 0);
        } else {
            simple(out, 0, cookie);
        }
    }

    /** A read answered as one OFFSET_HOLE chunk. */
    static void hole(ByteBuffer out, long cookie, long offset, int length) {
        chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_HOLE, cookie, HOLE_PAYLOAD);
        out.putLong(offset).putInt(length);
    }

    /** The payload length of a BLOCK_STATUS chunk with {@code extents} extents. */
    static int blockStatusPayload(int extents) {
        return STATUS_CONTEXT + EXTENT * extents;
    }

    /** A BLOCK_STATUS chunk's header and context id; the extents follow. */
    static void blockStatusHeader(ByteBuffer out, long cookie, int extents, int contextId) {
        chunkHeader(
                out,
                NbdProtocol.REPLY_FLAG_DONE,
                NbdProtocol.REPLY_TYPE_BLOCK_STATUS,
                cookie,
                blockStatusPayload(extents));
        out.putInt(contextId);
    }

    static void extent(ByteBuffer out, int length, int flags) {
        out.putInt(length).putInt(flags);
    }

    /** An error message as sent: UTF-8, at most {@link #MAX_MESSAGE} bytes. */
    static byte[] message(String message) {
        byte[] text = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        return text.length > MAX_MESSAGE ? Arrays.copyOf(text, MAX_MESSAGE) : text;
    }

    /** The size of an error reply: a simple reply, or an error chunk with the message (and offset). */
    static int errorSize(boolean chunk, byte[] text, boolean withOffset) {
        return chunk ? CHUNK_HEADER + ERROR_PREFIX + text.length + (withOffset ? ERROR_OFFSET : 0) : SIMPLE_HEADER;
    }

    /**
     * An error reply: a simple reply, or (for structured read and block-status replies) an ERROR
     * chunk with the message, an ERROR_OFFSET chunk if {@code withOffset}.
     */
    static void error(
            ByteBuffer out, boolean chunk, long cookie, int error, byte[] text, boolean withOffset, long offset) {
        if (!chunk) {
            simple(out, error, cookie);
            return;
        }
        int payload = ERROR_PREFIX + text.length + (withOffset ? ERROR_OFFSET : 0);
        chunkHeader(
                out,
                NbdProtocol.REPLY_FLAG_DONE,
                withOffset ? NbdProtocol.REPLY_TYPE_ERROR_OFFSET : NbdProtocol.REPLY_TYPE_ERROR,
                cookie,
                payload);
        out.putInt(error).putShort((short) text.length).put(text);
        if (withOffset) {
            out.putLong(offset);
        }
    }
}
