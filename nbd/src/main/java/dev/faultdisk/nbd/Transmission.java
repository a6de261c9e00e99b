package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ExtentSink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The transmission phase of one connection: decodes requests from the buffered input, validates
 * them, runs them on the export's device stack and encodes the replies (simple, or structured
 * where negotiated). Small replies are built in place in the reply buffer; large read payloads go
 * out with a gathering write.
 */
final class Transmission {
    /** Reads up to this size are read straight into the reply buffer. */
    private static final int INLINE_READ = 64 * 1024;
    /** A write payload larger than the maximum but at most this is skipped; beyond it, disconnect. */
    private static final long MAX_SKIPPED_PAYLOAD = 4L * NbdProtocol.MAX_PAYLOAD;
    private static final int MAX_EXTENTS = 1 << 16;
    /** Extent lengths must fit in 32 bits; keep them 4 KiB aligned when split. */
    private static final long MAX_EXTENT = 0xFFFF_F000L;

    private final Connection connection;
    private final ReplyWriter writer;
    private final BlockDevice device;
    private final long size;
    private final boolean structured;
    private final boolean baseAllocation;
    private final RequestHeader header = new RequestHeader();
    private final long[] extentLengths = new long[MAX_EXTENTS];
    private final int[] extentFlags = new int[MAX_EXTENTS];
    private ByteBuffer scratch;

    Transmission(Connection connection, Negotiation negotiation, ReplyWriter writer) {
        this.connection = connection;
        this.writer = writer;
        this.device = negotiation.export().device();
        this.size = device.size();
        this.structured = negotiation.structuredReplies();
        this.baseAllocation = negotiation.baseAllocation();
    }

    void run() throws IOException, ProtocolException {
        ByteBuffer in = connection.input();
        try {
            while (true) {
                if (!RequestDecoder.decode(in, header)) {
                    writer.flush();
                    if (connection.fill(RequestDecoder.HEADER_SIZE) < 0) {
                        return;
                    }
                    continue;
                }
                if (header.type == NbdProtocol.CMD_DISC) {
                    return;
                }
                handle(header);
            }
        } finally {
            writer.flush();
        }
    }

    private void handle(RequestHeader h) throws IOException, ProtocolException {
        int error = validate(h);
        if (h.type == NbdProtocol.CMD_WRITE) {
            write(h, error);
            return;
        }
        if (error != 0) {
            replyError(h, error, validationMessage(h, error), -1);
            return;
        }
        if (connection.isClosing()) {
            replyError(h, NbdProtocol.ESHUTDOWN, "server is shutting down", -1);
            return;
        }
        try {
            switch (h.type) {
                case NbdProtocol.CMD_READ -> read(h);
                case NbdProtocol.CMD_FLUSH -> {
                    device.flush();
                    replyOk(h);
                }
                case NbdProtocol.CMD_TRIM -> {
                    if (h.length > 0) {
                        device.trim(h.offset, h.length, fua(h));
                    }
                    replyOk(h);
                }
                case NbdProtocol.CMD_WRITE_ZEROES -> {
                    if (h.length > 0) {
                        device.writeZeroes(h.offset, h.length, (h.flags & NbdProtocol.CMD_FLAG_NO_HOLE) != 0,
                                (h.flags & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0, fua(h));
                    }
                    replyOk(h);
                }
                case NbdProtocol.CMD_CACHE -> replyOk(h); // advisory; data already lives in memory or page cache
                case NbdProtocol.CMD_BLOCK_STATUS -> blockStatus(h);
                default -> throw new IllegalStateException("validated command " + h.type);
            }
        } catch (DeviceException e) {
            replyError(h, nbdError(h, e.errno()), e.getMessage(), e.offset());
        } catch (IOException e) {
            if (!connection.isClosing() || !(e instanceof java.nio.channels.ClosedChannelException)) {
                replyError(h, NbdProtocol.EIO, e.toString(), -1);
            }
        }
    }

    /** Returns 0 if the request may run, else the NBD error to reply with. */
    private int validate(RequestHeader h) {
        int allowed = NbdProtocol.CMD_FLAG_FUA;
        switch (h.type) {
            case NbdProtocol.CMD_READ -> allowed |= structured ? NbdProtocol.CMD_FLAG_DF : 0;
            case NbdProtocol.CMD_WRITE_ZEROES -> allowed |= NbdProtocol.CMD_FLAG_NO_HOLE | NbdProtocol.CMD_FLAG_FAST_ZERO;
            case NbdProtocol.CMD_BLOCK_STATUS -> allowed |= NbdProtocol.CMD_FLAG_REQ_ONE;
            case NbdProtocol.CMD_WRITE, NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_TRIM, NbdProtocol.CMD_CACHE -> {
            }
            default -> {
                return NbdProtocol.EINVAL;
            }
        }
        if ((h.flags & ~allowed) != 0) {
            return NbdProtocol.EINVAL;
        }
        switch (h.type) {
            case NbdProtocol.CMD_FLUSH -> {
                return h.offset == 0 && h.length == 0 ? 0 : NbdProtocol.EINVAL;
            }
            case NbdProtocol.CMD_BLOCK_STATUS -> {
                if (!structured || !baseAllocation || h.length == 0) {
                    return NbdProtocol.EINVAL;
                }
            }
            case NbdProtocol.CMD_READ -> {
                if (h.length > NbdProtocol.MAX_PAYLOAD) {
                    return NbdProtocol.EOVERFLOW;
                }
            }
            case NbdProtocol.CMD_WRITE -> {
                if (h.length > NbdProtocol.MAX_PAYLOAD) {
                    return NbdProtocol.EINVAL;
                }
            }
            default -> {
            }
        }
        boolean inRange = h.offset >= 0 && h.offset <= size && h.length <= size - h.offset;
        if (!inRange) {
            boolean writes = h.type == NbdProtocol.CMD_WRITE || h.type == NbdProtocol.CMD_WRITE_ZEROES;
            return writes ? NbdProtocol.ENOSPC : NbdProtocol.EINVAL;
        }
        if (device.isReadOnly() && (h.type == NbdProtocol.CMD_WRITE || h.type == NbdProtocol.CMD_WRITE_ZEROES
                || h.type == NbdProtocol.CMD_TRIM)) {
            return NbdProtocol.EPERM;
        }
        return 0;
    }

    private String validationMessage(RequestHeader h, int error) {
        return switch (error) {
            case NbdProtocol.ENOSPC -> "request past the end of the export";
            case NbdProtocol.EOVERFLOW -> "request larger than the maximum payload";
            case NbdProtocol.EPERM -> "export is read-only";
            default -> "invalid " + NbdProtocol.commandName(h.type) + " request (flags " + h.flags
                    + ", offset " + h.offset + ", length " + h.length + ")";
        };
    }

    private void write(RequestHeader h, int error) throws IOException, ProtocolException {
        if (error != 0) {
            if (h.length > MAX_SKIPPED_PAYLOAD) {
                throw new ProtocolException("write payload of " + h.length + " bytes");
            }
            connection.skip(h.length);
            replyError(h, error, validationMessage(h, error), -1);
            return;
        }
        int length = (int) h.length;
        ByteBuffer in = connection.input();
        ByteBuffer payload;
        if (length <= in.capacity() / 2) {
            connection.require(length);
            payload = in.slice(in.position(), length);
            in.position(in.position() + length);
        } else {
            payload = scratch(length);
            connection.readInto(payload);
            payload.flip();
        }
        if (connection.isClosing()) {
            replyError(h, NbdProtocol.ESHUTDOWN, "server is shutting down", -1);
            return;
        }
        try {
            device.write(h.offset, payload, fua(h));
            replyOk(h);
        } catch (DeviceException e) {
            replyError(h, nbdError(h, e.errno()), e.getMessage(), e.offset());
        } catch (IOException e) {
            replyError(h, NbdProtocol.EIO, e.toString(), -1);
        }
    }

    private void read(RequestHeader h) throws IOException {
        int length = (int) h.length;
        int headerSize = structured ? 20 + 8 : 16;
        if (length <= INLINE_READ) {
            readInline(h, length, headerSize);
            return;
        }
        if (structured && wholeRangeIsHole(h.offset, length)) {
            writer.lock();
            try {
                ByteBuffer out = writer.reserve(32);
                chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_HOLE, h.cookie, 12);
                out.putLong(h.offset).putInt(length);
            } finally {
                writer.unlock();
            }
            return;
        }
        ByteBuffer data = scratch(length);
        try {
            device.read(h.offset, data);
        } catch (DeviceException e) {
            replyError(h, nbdError(h, e.errno()), e.getMessage(), e.offset());
            return;
        }
        data.flip();
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(headerSize);
            if (structured) {
                chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, h.cookie, 8 + length);
                out.putLong(h.offset);
            } else {
                simpleHeader(out, 0, h.cookie);
            }
            writer.flushWithPayloadLocked(data);
        } finally {
            writer.unlock();
        }
    }

    private void readInline(RequestHeader h, int length, int headerSize) throws IOException {
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(headerSize + length);
            int start = out.position();
            if (length == 0 && structured) {
                chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, h.cookie, 0);
                return;
            }
            if (structured) {
                chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, h.cookie, 8 + length);
                out.putLong(h.offset);
            } else {
                simpleHeader(out, 0, h.cookie);
            }
            ByteBuffer data = out.slice(out.position(), length);
            try {
                device.read(h.offset, data);
            } catch (IOException e) {
                out.position(start);
                int errno = e instanceof DeviceException de ? nbdError(h, de.errno()) : NbdProtocol.EIO;
                long at = e instanceof DeviceException de ? de.offset() : -1;
                encodeError(h, errno, e.getMessage() == null ? e.toString() : e.getMessage(), at);
                return;
            }
            out.position(out.position() + length);
        } finally {
            writer.unlock();
        }
    }

    private boolean wholeRangeIsHole(long offset, int length) {
        long[] covered = {0};
        try {
            device.extents(offset, length, (len, flags) -> {
                if ((flags & ExtentSink.ZERO) != 0) {
                    covered[0] += len;
                    return covered[0] < length;
                }
                return false;
            });
        } catch (IOException e) {
            return false;
        }
        return covered[0] >= length;
    }

    private void blockStatus(RequestHeader h) throws IOException {
        boolean one = (h.flags & NbdProtocol.CMD_FLAG_REQ_ONE) != 0;
        int[] count = {0};
        long[] covered = {0};
        long length = h.length;
        device.extents(h.offset, length, (len, flags) -> {
            long take = Math.min(Math.min(len, length - covered[0]), MAX_EXTENT);
            if (take <= 0) {
                return false;
            }
            extentLengths[count[0]] = take;
            extentFlags[count[0]] = flags & (ExtentSink.HOLE | ExtentSink.ZERO);
            count[0]++;
            covered[0] += take;
            return !one && take == len && covered[0] < length && count[0] < MAX_EXTENTS;
        });
        if (count[0] == 0) {
            // A device that reported nothing: all data is the safe answer.
            extentLengths[0] = Math.min(length, MAX_EXTENT);
            extentFlags[0] = 0;
            count[0] = 1;
        }
        int n = count[0];
        int payload = 4 + 8 * n;
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(Math.min(20 + payload, writer.capacity()));
            chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_BLOCK_STATUS, h.cookie, payload);
            out.putInt(NbdProtocol.BASE_ALLOCATION_ID);
            for (int i = 0; i < n; i++) {
                if (out.remaining() < 8) {
                    writer.flushLocked();
                }
                out.putInt((int) extentLengths[i]).putInt(extentFlags[i]);
            }
        } finally {
            writer.unlock();
        }
    }

    private void replyOk(RequestHeader h) throws IOException {
        writer.lock();
        try {
            simpleHeader(writer.reserve(16), 0, h.cookie);
        } finally {
            writer.unlock();
        }
    }

    private void replyError(RequestHeader h, int error, String message, long offset) throws IOException {
        writer.lock();
        try {
            encodeError(h, error, message, offset);
        } finally {
            writer.unlock();
        }
    }

    /** Encodes an error reply; caller holds the writer lock. */
    private void encodeError(RequestHeader h, int error, String message, long offset) throws IOException {
        boolean chunk = structured && (h.type == NbdProtocol.CMD_READ || h.type == NbdProtocol.CMD_BLOCK_STATUS);
        if (!chunk) {
            simpleHeader(writer.reserve(16), error, h.cookie);
            return;
        }
        byte[] text = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (text.length > 1024) {
            text = java.util.Arrays.copyOf(text, 1024);
        }
        boolean withOffset = offset >= h.offset && offset < h.offset + Math.max(1, h.length)
                && h.type == NbdProtocol.CMD_READ;
        int payload = 6 + text.length + (withOffset ? 8 : 0);
        ByteBuffer out = writer.reserve(20 + payload);
        chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE,
                withOffset ? NbdProtocol.REPLY_TYPE_ERROR_OFFSET : NbdProtocol.REPLY_TYPE_ERROR, h.cookie, payload);
        out.putInt(error).putShort((short) text.length).put(text);
        if (withOffset) {
            out.putLong(offset);
        }
    }

    private static void simpleHeader(ByteBuffer out, int error, long cookie) {
        out.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    private static void chunkHeader(ByteBuffer out, int flags, int type, long cookie, int length) {
        out.putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(cookie).putInt(length);
    }

    private static boolean fua(RequestHeader h) {
        return (h.flags & NbdProtocol.CMD_FLAG_FUA) != 0;
    }

    private static int nbdError(RequestHeader h, int errno) {
        return ErrnoMapping.toNbd(errno, (h.flags & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0,
                h.type == NbdProtocol.CMD_READ && (h.flags & NbdProtocol.CMD_FLAG_DF) != 0);
    }

    private ByteBuffer scratch(int length) {
        if (scratch == null || scratch.capacity() < length) {
            int capacity = Integer.highestOneBit(Math.max(length - 1, 1 << 20)) << 1;
            scratch = ByteBuffer.allocateDirect(Math.min(capacity, NbdProtocol.MAX_PAYLOAD));
        }
        return scratch.clear().limit(length);
    }
}
