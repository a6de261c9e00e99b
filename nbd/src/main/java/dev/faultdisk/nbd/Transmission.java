package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.DisconnectException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.RequestContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
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
    private ByteBuffer scratch;
    private final ByteBuffer inputView;

    Transmission(Connection connection, Negotiation negotiation, ReplyWriter writer) {
        this.connection = connection;
        this.writer = writer;
        this.device = negotiation.export().device();
        this.size = device.size();
        this.structured = negotiation.structuredReplies();
        this.baseAllocation = negotiation.baseAllocation();
        this.inputView = connection.input().duplicate();
    }

    void run() throws IOException, ProtocolException {
        ByteBuffer in = connection.input();
        RequestContext.enter(connection.id(), true); // every request this thread runs is inline
        try {
            while (true) {
                if (!RequestDecoder.decode(in, header)) {
                    writer.flush();
                    if (connection.fill(RequestDecoder.HEADER_SIZE) < 0) {
                        if (connection.isClosing()) {
                            awaitInFlight(); // our own shutdown: requests already read still answer
                        }
                        return;
                    }
                    continue;
                }
                if (header.type == NbdProtocol.CMD_DISC) {
                    writer.flush();
                    awaitInFlight();
                    return;
                }
                handle(header);
            }
        } finally {
            RequestContext.exit();
            writer.flush();
        }
    }

    /** Requests running on their own threads; DISC waits for them (the spec says finish them). */
    private int inFlight;

    private synchronized void started() {
        inFlight++;
    }

    /** True when no request runs on a thread of its own. */
    synchronized boolean idle() {
        return inFlight == 0;
    }

    private synchronized void finished() {
        if (--inFlight == 0) {
            notifyAll();
        }
    }

    /** Waits for requests in flight; gives up when the connection is closed (the shutdown's grace is over). */
    private synchronized void awaitInFlight() {
        while (inFlight > 0 && connection.isOpen()) {
            try {
                wait(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Validates a request and runs it: inline on the reader thread (the fast path), or on a
     * virtual thread of its own when the device stack says a call may block (breakpoints, held or
     * delayed requests), so that a stuck request never holds up the others.
     */
    private void handle(RequestHeader h) throws IOException, ProtocolException {
        int error = validate(h);
        if (error != 0) {
            if (h.type == NbdProtocol.CMD_WRITE) {
                if (h.length > MAX_SKIPPED_PAYLOAD) {
                    throw new ProtocolException("write payload of " + h.length + " bytes");
                }
                connection.skip(h.length);
            }
            replyError(h, error, validationMessage(h, error), -1);
            return;
        }
        boolean async = device.mayBlock();
        ByteBuffer payload = null;
        if (h.type == NbdProtocol.CMD_WRITE) {
            payload = async ? BufferPool.SHARED.acquire((int) h.length) : inlinePayload((int) h.length);
            if (async) {
                connection.readInto(payload);
                payload.flip();
            }
        }
        if (connection.isClosing()) {
            BufferPool.SHARED.release(async ? payload : null);
            replyError(h, NbdProtocol.ESHUTDOWN, "server is shutting down", -1);
            return;
        }
        if (!async) {
            execute(h, payload, true);
            return;
        }
        RequestHeader request = h.copy();
        ByteBuffer owned = payload;
        started();
        try {
            Thread.ofVirtual().name("nbd-req-" + request.cookie).start(() -> {
                RequestContext.enter(connection.id(), false);
                try {
                    execute(request, owned, false);
                    writer.flush();
                } catch (IOException e) {
                    connection.close(); // the socket failed under us: nothing more can be said
                } catch (RuntimeException e) {
                    // A bug below: drop the connection as the reader does, never leave the client waiting.
                    connection.internalError(e);
                } finally {
                    BufferPool.SHARED.release(owned);
                    finished();
                }
            });
        } catch (RuntimeException e) {
            finished();
            BufferPool.SHARED.release(owned);
            throw e;
        }
    }

    /** The payload of an inline write: a slice of the input buffer, or the scratch buffer. */
    private ByteBuffer inlinePayload(int length) throws IOException {
        ByteBuffer in = connection.input();
        if (length <= in.capacity() / 2) {
            connection.require(length);
            // A reused view, not a slice: the inline path allocates nothing per request.
            inputView.limit(in.position() + length).position(in.position());
            in.position(in.position() + length);
            return inputView;
        }
        ByteBuffer payload = scratch(length);
        connection.readInto(payload);
        return payload.flip();
    }

    /** Runs a validated request and replies. {@code inline}: on the reader thread, batching replies. */
    private void execute(RequestHeader h, ByteBuffer payload, boolean inline) throws IOException {
        try {
            switch (h.type) {
                case NbdProtocol.CMD_WRITE -> {
                    device.write(h.offset, payload, fua(h));
                    replyOk(h);
                }
                case NbdProtocol.CMD_READ -> read(h, inline);
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
        } catch (DisconnectException e) {
            drop(e.midReply() ? partialHeader(h) : null);
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

    private void read(RequestHeader h, boolean inline) throws IOException {
        int length = (int) h.length;
        int headerSize = structured ? 20 + 8 : 16;
        if (length == 0) {
            emptyRead(h);
            return;
        }
        if (inline && length <= INLINE_READ) {
            readInline(h, length, headerSize);
            return;
        }
        ByteBuffer data = inline ? scratch(length) : BufferPool.SHARED.acquire(length);
        try {
            try {
                device.read(h.offset, data);
            } catch (DisconnectException e) {
                if (e.midReply()) {
                    sendRead(h, data.position(0).limit(length / 2), headerSize); // the header, half the data
                }
                drop(null);
            }
            data.flip();
            if (structured && Zeroes.isAllZero(data)) {
                sendHole(h, length);
                return;
            }
            sendRead(h, data, headerSize);
        } finally {
            if (!inline) {
                BufferPool.SHARED.release(data);
            }
        }
    }

    /** Sends a read's reply; its header announces {@code h.length} bytes whether or not {@code data} holds them all. */
    private void sendRead(RequestHeader h, ByteBuffer data, int headerSize) throws IOException {
        int length = (int) h.length;
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
            if (structured) {
                chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, h.cookie, 8 + length);
                out.putLong(h.offset);
            } else {
                simpleHeader(out, 0, h.cookie);
            }
            ByteBuffer data = writer.view(out.position(), length);
            try {
                device.read(h.offset, data);
            } catch (DisconnectException e) {
                // Replies before this one go out whole; of this one, part of the data if asked.
                out.position(e.midReply() ? out.position() + length / 2 : start);
                writer.flushLocked();
                connection.close();
                throw new ClosedChannelException();
            } catch (IOException e) {
                out.position(start);
                int errno = e instanceof DeviceException de ? nbdError(h, de.errno()) : NbdProtocol.EIO;
                long at = e instanceof DeviceException de ? de.offset() : -1;
                encodeError(h, errno, e.getMessage() == null ? e.toString() : e.getMessage(), at);
                return;
            } catch (RuntimeException e) {
                out.position(start); // take back the header already built: no partial reply goes out
                throw e;
            }
            out.position(out.position() + length);
        } finally {
            writer.unlock();
        }
    }

    /** A zero-length read (clients should not send one): success with no data. */
    private void emptyRead(RequestHeader h) throws IOException {
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(20);
            if (structured) {
                chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, h.cookie, 0);
            } else {
                simpleHeader(out, 0, h.cookie);
            }
        } finally {
            writer.unlock();
        }
    }

    /**
     * Answers a large read whose data is all zero with one OFFSET_HOLE chunk instead of the bytes.
     * Deciding from the data read, not from the allocation map, costs one vectorised compare that
     * stops at the first non-zero byte, and stays right whatever the layers above the backend do.
     */
    private void sendHole(RequestHeader h, int length) throws IOException {
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(32);
            chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_HOLE, h.cookie, 12);
            out.putLong(h.offset).putInt(length);
        } finally {
            writer.unlock();
        }
    }

    private void blockStatus(RequestHeader h) throws IOException {
        boolean one = (h.flags & NbdProtocol.CMD_FLAG_REQ_ONE) != 0;
        long length = h.length;
        ExtentList extents = new ExtentList();
        device.extents(h.offset, length, (len, flags) -> {
            long take = Math.min(Math.min(len, length - extents.covered), MAX_EXTENT);
            if (take <= 0) {
                return false;
            }
            extents.add(take, flags & (ExtentSink.HOLE | ExtentSink.ZERO));
            return !one && take == len && extents.covered < length && extents.count < MAX_EXTENTS;
        });
        if (extents.count == 0) {
            extents.add(Math.min(length, MAX_EXTENT), 0); // nothing reported: "data" is always safe
        }
        int payload = 4 + 8 * extents.count;
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(Math.min(20 + payload, writer.capacity()));
            chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_BLOCK_STATUS, h.cookie, payload);
            out.putInt(NbdProtocol.BASE_ALLOCATION_ID);
            for (int i = 0; i < extents.count; i++) {
                if (out.remaining() < 8) {
                    writer.flushLocked();
                }
                out.putInt((int) extents.lengths[i]).putInt(extents.flags[i]);
            }
        } finally {
            writer.unlock();
        }
    }

    /** Extents gathered for one BLOCK_STATUS reply. */
    private static final class ExtentList {
        long[] lengths = new long[16];
        int[] flags = new int[16];
        int count;
        long covered;

        void add(long length, int flag) {
            if (count == lengths.length) {
                lengths = java.util.Arrays.copyOf(lengths, count * 2);
                flags = java.util.Arrays.copyOf(flags, count * 2);
            }
            lengths[count] = length;
            flags[count] = flag;
            count++;
            covered += length;
        }
    }

    /**
     * A fault rule dropped the connection: replies already built go out, then {@code partial} (a
     * reply cut short) if given, then the socket closes. Throws to end the caller's request.
     */
    private void drop(ByteBuffer partial) throws IOException {
        writer.lock();
        try {
            writer.flushLocked();
            if (partial != null) {
                writer.flushWithPayloadLocked(partial);
            }
        } finally {
            writer.unlock();
        }
        connection.close();
        throw new ClosedChannelException();
    }

    /** The first half of the reply header a successful {@code h} would get: a reply cut in the middle. */
    private ByteBuffer partialHeader(RequestHeader h) {
        boolean chunk = structured && h.type == NbdProtocol.CMD_BLOCK_STATUS;
        ByteBuffer b = ByteBuffer.allocate(20);
        if (chunk) {
            chunkHeader(b, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_BLOCK_STATUS, h.cookie, 12);
        } else {
            simpleHeader(b, 0, h.cookie);
        }
        return b.flip().limit(b.limit() / 2);
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
            BufferPool.SHARED.release(scratch);
            scratch = BufferPool.SHARED.acquire(length);
        }
        return scratch.clear().limit(length);
    }

    /** Returns the connection's buffers to the pool. */
    void release() {
        BufferPool.SHARED.release(scratch);
        scratch = null;
    }
}
