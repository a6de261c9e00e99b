package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.DisconnectException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.RequestTimer;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The transmission phase of one connection: decodes requests from the buffered input, validates
 * them, runs each as a {@link BlockRequest} on the export's device stack and encodes the replies
 * with {@link ReplyEncoder} (simple, or structured where negotiated). Small replies are built in
 * place in the reply buffer; large read payloads go out with a gathering write.
 */
final class Transmission {
    /** Reads up to this size are read straight into the reply buffer. */
    private static final int INLINE_READ = 64 * 1024;
    /** A write payload larger than the maximum but at most this is skipped; beyond it, disconnect. */
    private static final long MAX_SKIPPED_PAYLOAD = 4L * NbdProtocol.MAX_PAYLOAD;

    private static final int MAX_EXTENTS = 1 << 16;
    /** Extent lengths must fit in 32 bits; keep them 4 KiB aligned when split. */
    private static final long MAX_EXTENT = 0xFFFF_F000L;

    private static final int FUA = BlockRequest.Flag.FUA.bit();
    private static final int NO_HOLE = BlockRequest.Flag.NO_HOLE.bit();
    private static final int FAST_ZERO = BlockRequest.Flag.FAST_ZERO.bit();
    private static final int DF = BlockRequest.Flag.DF.bit();
    private static final int REQ_ONE = BlockRequest.Flag.REQ_ONE.bit();

    private final Connection connection;
    private final ReplyWriter writer;
    private final BlockDevice device;
    /** Null when the export does not time requests: then the fast path reads no clock. */
    private final RequestTimer timer;

    private final long size;
    private final boolean structured;
    private final boolean baseAllocation;
    private final RequestHeader header = new RequestHeader();
    /** Requests of this connection that reached the device stack; the reader alone counts them. */
    private long sequence;

    private ByteBuffer scratch;
    private final ByteBuffer inputView;
    /** Requests that run off the reader, one virtual thread each; DISC waits for them (the spec says finish them). */
    private final ExecutorService requests;

    Transmission(Connection connection, Negotiation negotiation, ReplyWriter writer) {
        this.connection = connection;
        this.writer = writer;
        this.device = negotiation.export().device();
        this.timer = negotiation.export().timer();
        this.size = device.size();
        this.structured = negotiation.structuredReplies();
        this.baseAllocation = negotiation.baseAllocation();
        this.inputView = connection.input().duplicate();
        this.requests = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("nbd-req-" + connection.id() + "-", 0).factory());
    }

    void run() throws IOException, ProtocolException {
        ByteBuffer in = connection.input();
        try {
            while (true) {
                if (!RequestDecoder.decode(in, header)) {
                    writer.flush();
                    if (connection.fill(RequestDecoder.HEADER_SIZE) < 0) {
                        connection.inputEnded();
                        if (connection.isClosing()) {
                            awaitInFlight(); // our own shutdown: requests already read still answer
                        }
                        return;
                    }
                    continue;
                }
                if (header.type == NbdProtocol.CMD_DISC) {
                    connection.inputEnded();
                    writer.flush();
                    awaitInFlight();
                    return;
                }
                handle(header);
            }
        } finally {
            writer.flush();
        }
    }

    /**
     * Stops taking requests off the reader; true if none still runs (then the connection's
     * buffers may go back to the pool: no late reply writes into them).
     */
    boolean finish() {
        requests.shutdown();
        return requests.isTerminated();
    }

    /** Waits for requests in flight; gives up when the connection is closed (the shutdown's grace is over). */
    private void awaitInFlight() {
        requests.shutdown();
        if (requests.isTerminated()) {
            return;
        }
        CompletableFuture<Void> done = CompletableFuture.runAsync(requests::close, Thread::startVirtualThread);
        CompletableFuture.anyOf(done, connection.closed()).join();
    }

    /**
     * Validates a request and runs it: inline on the reader thread (the fast path), or on a
     * virtual thread of its own when the device stack says a call may block (breakpoints, held or
     * delayed requests), so that a stuck request never holds up the others.
     */
    private void handle(RequestHeader h) throws IOException, ProtocolException {
        if (timer != null) {
            h.arrival = System.nanoTime(); // its header is in; a write's payload may still be on its way
        }
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
        // Numbered in arrival order, so that layers that count requests (triggers) can count them in
        // that order even when they run on threads of their own.
        h.sequence = reachesDevice(h) ? ++sequence : 0;
        if (!async) {
            execute(h, payload, true);
            return;
        }
        RequestHeader request = h.copy();
        ByteBuffer owned = payload;
        try {
            requests.execute(() -> {
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
                }
            });
        } catch (RuntimeException e) {
            BufferPool.SHARED.release(owned);
            throw e;
        }
    }

    /**
     * False for requests answered without the device: CACHE (advisory; data already lives in memory
     * or page cache) and a TRIM or WRITE_ZEROES of no bytes.
     */
    private static boolean reachesDevice(RequestHeader h) {
        return switch (h.type) {
            case NbdProtocol.CMD_CACHE -> false;
            case NbdProtocol.CMD_TRIM, NbdProtocol.CMD_WRITE_ZEROES -> h.length > 0;
            default -> true;
        };
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
            run(h, payload, inline);
        } finally {
            if (timer != null && h.sequence != 0) {
                timer.completed(opOf(h.type), System.nanoTime() - h.arrival);
            }
        }
    }

    private static BlockOp opOf(int type) {
        return switch (type) {
            case NbdProtocol.CMD_READ -> BlockOp.READ;
            case NbdProtocol.CMD_WRITE -> BlockOp.WRITE;
            case NbdProtocol.CMD_FLUSH -> BlockOp.FLUSH;
            case NbdProtocol.CMD_TRIM -> BlockOp.TRIM;
            case NbdProtocol.CMD_WRITE_ZEROES -> BlockOp.WRITE_ZEROES;
            default -> BlockOp.BLOCK_STATUS;
        };
    }

    private void run(RequestHeader h, ByteBuffer payload, boolean inline) throws IOException {
        try {
            if (!reachesDevice(h)) {
                replyOk(h);
                return;
            }
            switch (h.type) {
                case NbdProtocol.CMD_WRITE -> {
                    device.write(request(h, BlockOp.WRITE, inline), payload);
                    replyOk(h);
                }
                case NbdProtocol.CMD_READ -> read(h, inline);
                case NbdProtocol.CMD_FLUSH -> {
                    device.flush(request(h, BlockOp.FLUSH, inline));
                    replyOk(h);
                }
                case NbdProtocol.CMD_TRIM -> {
                    device.trim(request(h, BlockOp.TRIM, inline));
                    replyOk(h);
                }
                case NbdProtocol.CMD_WRITE_ZEROES -> {
                    device.writeZeroes(request(h, BlockOp.WRITE_ZEROES, inline));
                    replyOk(h);
                }
                case NbdProtocol.CMD_BLOCK_STATUS -> blockStatus(h, request(h, BlockOp.BLOCK_STATUS, inline));
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

    /** The stack's request for a validated NBD request: the only object the inline path allocates per request. */
    private BlockRequest request(RequestHeader h, BlockOp op, boolean inline) {
        int f = h.flags;
        int flags = ((f & NbdProtocol.CMD_FLAG_FUA) != 0 ? FUA : 0)
                | ((f & NbdProtocol.CMD_FLAG_NO_HOLE) != 0 ? NO_HOLE : 0)
                | ((f & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0 ? FAST_ZERO : 0)
                | ((f & NbdProtocol.CMD_FLAG_DF) != 0 ? DF : 0)
                | ((f & NbdProtocol.CMD_FLAG_REQ_ONE) != 0 ? REQ_ONE : 0);
        return BlockRequest.of(op, h.offset, h.length, flags, connection.id(), inline, h.sequence);
    }

    /** Returns 0 if the request may run, else the NBD error to reply with. */
    private int validate(RequestHeader h) {
        int allowed = NbdProtocol.CMD_FLAG_FUA;
        switch (h.type) {
            case NbdProtocol.CMD_READ -> allowed |= structured ? NbdProtocol.CMD_FLAG_DF : 0;
            case NbdProtocol.CMD_WRITE_ZEROES ->
                allowed |= NbdProtocol.CMD_FLAG_NO_HOLE | NbdProtocol.CMD_FLAG_FAST_ZERO;
            case NbdProtocol.CMD_BLOCK_STATUS -> allowed |= NbdProtocol.CMD_FLAG_REQ_ONE;
            case NbdProtocol.CMD_WRITE, NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_TRIM, NbdProtocol.CMD_CACHE -> {}
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
            default -> {}
        }
        boolean inRange = h.offset >= 0 && h.offset <= size && h.length <= size - h.offset;
        if (!inRange) {
            boolean writes = h.type == NbdProtocol.CMD_WRITE || h.type == NbdProtocol.CMD_WRITE_ZEROES;
            return writes ? NbdProtocol.ENOSPC : NbdProtocol.EINVAL;
        }
        if (device.isReadOnly()
                && (h.type == NbdProtocol.CMD_WRITE
                        || h.type == NbdProtocol.CMD_WRITE_ZEROES
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
            default ->
                "invalid " + NbdProtocol.commandName(h.type) + " request (flags " + h.flags + ", offset " + h.offset
                        + ", length " + h.length + ")";
        };
    }

    private void read(RequestHeader h, boolean inline) throws IOException {
        int length = (int) h.length;
        int headerSize = ReplyEncoder.readHeaderSize(structured);
        if (length == 0) {
            emptyRead(h);
            return;
        }
        BlockRequest r = request(h, BlockOp.READ, inline);
        if (inline && length <= INLINE_READ) {
            readInline(h, r, length, headerSize);
            return;
        }
        ByteBuffer data = inline ? scratch(length) : BufferPool.SHARED.acquire(length);
        try {
            try {
                device.read(r, data);
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
            ReplyEncoder.readHeader(writer.reserve(headerSize), structured, h.cookie, h.offset, length);
            writer.flushWithPayloadLocked(data);
        } finally {
            writer.unlock();
        }
    }

    private void readInline(RequestHeader h, BlockRequest r, int length, int headerSize) throws IOException {
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(headerSize + length);
            int start = out.position();
            ReplyEncoder.readHeader(out, structured, h.cookie, h.offset, length);
            ByteBuffer data = writer.view(out.position(), length);
            try {
                device.read(r, data);
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
            ReplyEncoder.emptyRead(writer.reserve(ReplyEncoder.CHUNK_HEADER), structured, h.cookie);
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
            ReplyEncoder.hole(
                    writer.reserve(ReplyEncoder.CHUNK_HEADER + ReplyEncoder.HOLE_PAYLOAD), h.cookie, h.offset, length);
        } finally {
            writer.unlock();
        }
    }

    private void blockStatus(RequestHeader h, BlockRequest r) throws IOException {
        boolean one = r.has(BlockRequest.Flag.REQ_ONE);
        long length = h.length;
        ExtentList extents = new ExtentList();
        device.extents(r, (len, flags) -> {
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
        int size = ReplyEncoder.CHUNK_HEADER + ReplyEncoder.blockStatusPayload(extents.count);
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(Math.min(size, writer.capacity()));
            ReplyEncoder.blockStatusHeader(out, h.cookie, extents.count, NbdProtocol.BASE_ALLOCATION_ID);
            for (int i = 0; i < extents.count; i++) {
                if (out.remaining() < ReplyEncoder.EXTENT) {
                    writer.flushLocked();
                }
                ReplyEncoder.extent(out, (int) extents.lengths[i], extents.flags[i]);
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
        connection.closeBecause("a fault rule disconnected it");
        throw new ClosedChannelException();
    }

    /** The first half of the reply header a successful {@code h} would get: a reply cut in the middle. */
    private ByteBuffer partialHeader(RequestHeader h) {
        boolean chunk = structured && h.type == NbdProtocol.CMD_BLOCK_STATUS;
        ByteBuffer b = ByteBuffer.allocate(ReplyEncoder.CHUNK_HEADER + ReplyEncoder.STATUS_CONTEXT);
        if (chunk) {
            ReplyEncoder.blockStatusHeader(b, h.cookie, 1, NbdProtocol.BASE_ALLOCATION_ID);
            b.position(ReplyEncoder.CHUNK_HEADER);
        } else {
            ReplyEncoder.simple(b, 0, h.cookie);
        }
        return b.flip().limit(b.limit() / 2);
    }

    private void replyOk(RequestHeader h) throws IOException {
        writer.lock();
        try {
            ReplyEncoder.simple(writer.reserve(ReplyEncoder.SIMPLE_HEADER), 0, h.cookie);
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
        byte[] text = chunk ? ReplyEncoder.message(message) : null;
        boolean withOffset = chunk
                && h.type == NbdProtocol.CMD_READ
                && offset >= h.offset
                && offset < h.offset + Math.max(1, h.length);
        ReplyEncoder.error(
                writer.reserve(ReplyEncoder.errorSize(chunk, text, withOffset)),
                chunk,
                h.cookie,
                error,
                text,
                withOffset,
                offset);
    }

    private static int nbdError(RequestHeader h, int errno) {
        return ErrnoMapping.toNbd(
                errno,
                (h.flags & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0,
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
