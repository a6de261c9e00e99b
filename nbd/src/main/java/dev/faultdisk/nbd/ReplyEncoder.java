package dev.faultdisk.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes transmission replies: simple replies, structured and extended reply chunks. Pure: it writes into
 * the buffer it is given, which the caller sized with the constants and {@code size} methods here.
 * The counterpart of {@link RequestDecoder}.
 */
final class ReplyEncoder {
    /** Magic, error, cookie. */
    static final int SIMPLE_HEADER = 4 + 4 + 8;
    /** Magic, flags, type, cookie, payload length. */
    static final int CHUNK_HEADER = 4 + 2 + 2 + 8 + 4;
    /** Magic, flags, type, cookie, the request's offset, a 64-bit payload length. */
    static final int EXTENDED_HEADER = 4 + 2 + 2 + 8 + 8 + 8;
    /** An OFFSET_DATA chunk's payload starts with the offset of its data. */
    static final int DATA_OFFSET = 8;
    /** An OFFSET_HOLE chunk's payload: offset and length. */
    static final int HOLE_PAYLOAD = 8 + 4;
    /** A BLOCK_STATUS chunk's payload: the metadata context id, then the extents. */
    static final int STATUS_CONTEXT = 4;
    /** A BLOCK_STATUS_EXT chunk's payload: the context id and the count of extents, then the extents. */
    static final int STATUS_EXT_PREFIX = 4 + 4;
    /** One extent: length and flags. */
    static final int EXTENT = 4 + 4;
    /** One extent of BLOCK_STATUS_EXT: a 64-bit length, padding, flags. */
    static final int EXTENT_EXT = 8 + 4 + 4;
    /** An error chunk's payload before its message: error and message length. */
    static final int ERROR_PREFIX = 4 + 2;
    /** ERROR_OFFSET adds the offset after the message. */
    static final int ERROR_OFFSET = 8;
    /** Error messages are cut to this many bytes of UTF-8. */
    static final int MAX_MESSAGE = 1024;

    private ReplyEncoder() {}

    /** The size of a chunk's header. */
    static int chunkHeaderSize(ReplyForm form) {
        return form == ReplyForm.EXTENDED ? EXTENDED_HEADER : CHUNK_HEADER;
    }

    /** The header before a read's data: a simple reply, or an OFFSET_DATA chunk header and offset. */
    static int readHeaderSize(ReplyForm form) {
        return form.chunks() ? chunkHeaderSize(form) + DATA_OFFSET : SIMPLE_HEADER;
    }

    /** The size of a success without data: a simple reply, or under extended headers a NONE chunk. */
    static int okSize(ReplyForm form) {
        return form == ReplyForm.EXTENDED ? EXTENDED_HEADER : SIMPLE_HEADER;
    }

    static void simple(ByteBuffer out, int error, long cookie) {
        out.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    /**
     * A chunk's header: structured, or extended, which also carries the request's offset
     * ({@code requestOffset}) and a 64-bit length.
     */
    static void chunkHeader(
            ByteBuffer out, ReplyForm form, int flags, int type, long cookie, long requestOffset, int length) {
        if (form == ReplyForm.EXTENDED) {
            out.putInt(NbdProtocol.EXTENDED_REPLY_MAGIC)
                    .putShort((short) flags)
                    .putShort((short) type)
                    .putLong(cookie)
                    .putLong(requestOffset)
                    .putLong(Integer.toUnsignedLong(length));
            return;
        }
        out.putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC)
                .putShort((short) flags)
                .putShort((short) type)
                .putLong(cookie)
                .putInt(length);
    }

    /** A success without data for the request at {@code offset}: a simple reply, or a NONE chunk. */
    static void ok(ByteBuffer out, ReplyForm form, long cookie, long offset) {
        if (form == ReplyForm.EXTENDED) {
            chunkHeader(out, form, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, cookie, offset, 0);
        } else {
            simple(out, 0, cookie);
        }
    }

    /** The header of a successful read of {@code length} bytes at {@code offset}; the data follows. */
    static void readHeader(ByteBuffer out, ReplyForm form, long cookie, long offset, int length) {
        if (form.chunks()) {
            chunkHeader(
                    out,
                    form,
                    NbdProtocol.REPLY_FLAG_DONE,
                    NbdProtocol.REPLY_TYPE_OFFSET_DATA,
                    cookie,
                    offset,
                    DATA_OFFSET + length);
            out.putLong(offset);
        } else {
            simple(out, 0, cookie);
        }
    }

    /** A successful read without data: a NONE chunk, or a simple reply. */
    static void emptyRead(ByteBuffer out, ReplyForm form, long cookie, long offset) {
        if (form.chunks()) {
            chunkHeader(out, form, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, cookie, offset, 0);
        } else {
            simple(out, 0, cookie);
        }
    }

    /** The size of {@link #hole}'s reply. */
    static int holeSize(ReplyForm form) {
        return chunkHeaderSize(form) + HOLE_PAYLOAD;
    }

    /** A read answered as one OFFSET_HOLE chunk. */
    static void hole(ByteBuffer out, ReplyForm form, long cookie, long offset, int length) {
        chunkHeader(
                out,
                form,
                NbdProtocol.REPLY_FLAG_DONE,
                NbdProtocol.REPLY_TYPE_OFFSET_HOLE,
                cookie,
                offset,
                HOLE_PAYLOAD);
        out.putLong(offset).putInt(length);
    }

    /** One extent's size: BLOCK_STATUS_EXT's under extended headers, else BLOCK_STATUS's. */
    static int extentSize(ReplyForm form) {
        return form == ReplyForm.EXTENDED ? EXTENT_EXT : EXTENT;
    }

    /** The payload length of a block status chunk with {@code extents} extents. */
    static int blockStatusPayload(ReplyForm form, int extents) {
        return form == ReplyForm.EXTENDED
                ? STATUS_EXT_PREFIX + EXTENT_EXT * extents
                : STATUS_CONTEXT + EXTENT * extents;
    }

    /**
     * A block status chunk's header and what precedes its extents (the context id, and under
     * extended headers the count of extents, as a BLOCK_STATUS_EXT chunk); the extents follow.
     */
    static void blockStatusHeader(
            ByteBuffer out, ReplyForm form, long cookie, long offset, int extents, int contextId) {
        boolean extended = form == ReplyForm.EXTENDED;
        chunkHeader(
                out,
                form,
                NbdProtocol.REPLY_FLAG_DONE,
                extended ? NbdProtocol.REPLY_TYPE_BLOCK_STATUS_EXT : NbdProtocol.REPLY_TYPE_BLOCK_STATUS,
                cookie,
                offset,
                blockStatusPayload(form, extents));
        out.putInt(contextId);
        if (extended) {
            out.putInt(extents);
        }
    }

    /** One extent; a compact one's length must fit in 32 bits (the caller cut it). */
    static void extent(ByteBuffer out, ReplyForm form, long length, int flags) {
        if (form == ReplyForm.EXTENDED) {
            out.putLong(length).putInt(0).putInt(flags);
        } else {
            out.putInt((int) length).putInt(flags);
        }
    }

    /** An error message as sent: UTF-8, at most {@link #MAX_MESSAGE} bytes. */
    static byte[] message(String message) {
        byte[] text = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        return text.length > MAX_MESSAGE ? Arrays.copyOf(text, MAX_MESSAGE) : text;
    }

    /** The size of an error reply: a simple reply, or an error chunk with the message (and offset). */
    static int errorSize(ReplyForm form, boolean chunk, byte[] text, boolean withOffset) {
        return chunk
                ? chunkHeaderSize(form) + ERROR_PREFIX + text.length + (withOffset ? ERROR_OFFSET : 0)
                : SIMPLE_HEADER;
    }

    /**
     * An error reply to the request at {@code requestOffset}: a simple reply, or (for structured
     * read and block-status replies, and every reply under extended headers) an ERROR chunk with
     * the message, an ERROR_OFFSET chunk if {@code withOffset}.
     */
    static void error(
            ByteBuffer out,
            ReplyForm form,
            boolean chunk,
            long cookie,
            long requestOffset,
            int error,
            byte[] text,
            boolean withOffset,
            long offset) {
        if (!chunk) {
            simple(out, error, cookie);
            return;
        }
        int payload = ERROR_PREFIX + text.length + (withOffset ? ERROR_OFFSET : 0);
        chunkHeader(
                out,
                form,
                NbdProtocol.REPLY_FLAG_DONE,
                withOffset ? NbdProtocol.REPLY_TYPE_ERROR_OFFSET : NbdProtocol.REPLY_TYPE_ERROR,
                cookie,
                requestOffset,
                payload);
        out.putInt(error).putShort((short) text.length).put(text);
        if (withOffset) {
            out.putLong(offset);
        }
    }
}
