package dev.faultdisk.nbd;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.DisconnectException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

/**
 * The replies of one connection, each built with {@link ReplyEncoder} into its {@link ReplyWriter}
 * under the writer's lock (simple replies, structured chunks or extended ones, as negotiated). They
 * leave when the writer flushes, batched with the replies built beside them.
 */
final class Replies {
    private final Connection connection;
    private final ReplyWriter writer;
    private final ReplyForm form;

    Replies(Connection connection, ReplyWriter writer, ReplyForm form) {
        this.connection = connection;
        this.writer = writer;
        this.form = form;
    }

    /** The bytes before a read's data. */
    int readHeaderSize() {
        return ReplyEncoder.readHeaderSize(form);
    }

    void ok(RequestHeader h) throws IOException {
        writer.lock();
        try {
            ReplyEncoder.ok(writer.reserve(ReplyEncoder.okSize(form)), form, h.cookie, h.offset);
        } finally {
            writer.unlock();
        }
    }

    void error(RequestHeader h, int error, String message, long offset) throws IOException {
        writer.lock();
        try {
            encodeError(h, error, message, offset);
        } finally {
            writer.unlock();
        }
    }

    /**
     * Encodes an error reply; the caller holds the writer's lock. A structured reply to a read
     * carries {@code offset} when it lies inside the request.
     */
    void encodeError(RequestHeader h, int error, String message, long offset) throws IOException {
        boolean chunk = form == ReplyForm.EXTENDED
                || (form.chunks() && (h.type == NbdProtocol.CMD_READ || h.type == NbdProtocol.CMD_BLOCK_STATUS));
        byte[] text = chunk ? ReplyEncoder.message(message) : null;
        boolean withOffset = chunk
                && h.type == NbdProtocol.CMD_READ
                && offset >= h.offset
                && offset < h.offset + Math.max(1, h.length);
        ReplyEncoder.error(
                writer.reserve(ReplyEncoder.errorSize(form, chunk, text, withOffset)),
                form,
                chunk,
                h.cookie,
                h.offset,
                error,
                text,
                withOffset,
                offset);
    }

    /**
     * Answers a request the stack failed with {@code e}: a disconnect drops the connection (after
     * a torn header if it came mid-reply), a device error becomes its errno, any other I/O error
     * EIO, unless it is only the channel closing under a shutdown.
     */
    void failure(RequestHeader h, IOException e) throws IOException {
        switch (e) {
            case DisconnectException d -> drop(d.midReply() ? partialHeader(h) : null);
            case DeviceException d -> error(h, RequestValidator.nbdError(h, d.errno()), d.getMessage(), d.offset());
            default -> {
                if (!connection.isClosing() || !(e instanceof ClosedChannelException)) {
                    error(h, NbdProtocol.EIO, e.toString(), -1);
                }
            }
        }
    }

    /** A read's reply; its header announces {@code h.length} bytes whether or not {@code data} holds them all. */
    void read(RequestHeader h, ByteBuffer data) throws IOException {
        writer.lock();
        try {
            ReplyEncoder.readHeader(writer.reserve(readHeaderSize()), form, h.cookie, h.offset, (int) h.length);
            writer.flushWithPayloadLocked(data);
        } finally {
            writer.unlock();
        }
    }

    /** A small read's reply, its data copied in after the header so that it leaves with the replies beside it. */
    void readCopied(RequestHeader h, ByteBuffer data) throws IOException {
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(readHeaderSize() + data.remaining());
            ReplyEncoder.readHeader(out, form, h.cookie, h.offset, (int) h.length);
            out.put(data);
        } finally {
            writer.unlock();
        }
    }

    /** A zero-length read (clients should not send one): success with no data. */
    void emptyRead(RequestHeader h) throws IOException {
        writer.lock();
        try {
            ReplyEncoder.emptyRead(writer.reserve(ReplyEncoder.chunkHeaderSize(form)), form, h.cookie, h.offset);
        } finally {
            writer.unlock();
        }
    }

    /**
     * True if a read's data may be answered with one OFFSET_HOLE chunk ({@link #hole}) instead:
     * structured replies, and data all zero. Deciding from the data read, not from the allocation
     * map, costs one vectorised compare that stops at the first non-zero byte, and stays right
     * whatever the layers above the backend do.
     */
    boolean holeFits(ByteBuffer data) {
        return form.chunks() && Zeroes.isAllZero(data);
    }

    void hole(RequestHeader h) throws IOException {
        writer.lock();
        try {
            ReplyEncoder.hole(writer.reserve(ReplyEncoder.holeSize(form)), form, h.cookie, h.offset, (int) h.length);
        } finally {
            writer.unlock();
        }
    }

    /**
     * A BLOCK_STATUS reply for the base:allocation context: one chunk of the extents (BLOCK_STATUS,
     * or BLOCK_STATUS_EXT under extended headers).
     */
    void blockStatus(RequestHeader h, Extents extents) throws IOException {
        int count = extents.count;
        int extent = ReplyEncoder.extentSize(form);
        int size = ReplyEncoder.chunkHeaderSize(form) + ReplyEncoder.blockStatusPayload(form, count);
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(Math.min(size, writer.capacity()));
            ReplyEncoder.blockStatusHeader(out, form, h.cookie, h.offset, count, NbdProtocol.BASE_ALLOCATION_ID);
            for (int i = 0; i < count; i++) {
                if (out.remaining() < extent) {
                    writer.flushLocked();
                }
                ReplyEncoder.extent(out, form, extents.lengths[i], extents.flags[i]);
            }
        } finally {
            writer.unlock();
        }
    }

    /**
     * A fault rule dropped the connection: replies already built go out, then {@code partial} (a
     * reply cut short) if given, then the socket closes. Throws to end the caller's request.
     */
    void drop(ByteBuffer partial) throws IOException {
        writer.lock();
        try {
            writer.flushLocked();
            if (partial != null) {
                writer.flushWithPayloadLocked(partial);
            }
        } finally {
            writer.unlock();
        }
        connection.closeBecause("a fault rule disconnected it");
        throw new ClosedChannelException();
    }

    /** The first half of the reply header a successful {@code h} would get: a reply cut in the middle. */
    private ByteBuffer partialHeader(RequestHeader h) {
        boolean chunk = form.chunks() && h.type == NbdProtocol.CMD_BLOCK_STATUS;
        ByteBuffer b = ByteBuffer.allocate(ReplyEncoder.EXTENDED_HEADER + ReplyEncoder.STATUS_EXT_PREFIX);
        if (chunk) {
            ReplyEncoder.blockStatusHeader(b, form, h.cookie, h.offset, 1, NbdProtocol.BASE_ALLOCATION_ID);
            b.position(ReplyEncoder.chunkHeaderSize(form));
        } else {
            ReplyEncoder.ok(b, form, h.cookie, h.offset);
        }
        return b.flip().limit(b.limit() / 2);
    }
}
