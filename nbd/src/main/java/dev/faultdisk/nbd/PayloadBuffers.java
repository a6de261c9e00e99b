package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a connection's reader puts request payloads: a view of the input buffer for a small
 * write (no copy, nothing allocated), a scratch buffer kept between requests (up to
 * {@link #MAX_SCRATCH}), the pipe a large write is spliced into on its way to the image file, and
 * buffers from the connection's {@link PayloadShare} beyond those. The reader thread alone uses it.
 */
final class PayloadBuffers {
    /** The largest scratch buffer a connection keeps between requests; larger payloads come from the budget. */
    static final int MAX_SCRATCH = 1 << 20;
    /** A large write's buffer is taken once this much of its payload (or all of it) has arrived. */
    private static final int PAYLOAD_ARRIVED = 128 * 1024;

    private final Connection connection;
    /** The connection's input, which payloads are read from. */
    private final ConnectionInput input;

    private final PayloadShare share;
    private ByteBuffer scratch;
    /** The budgeted buffer of the inline request running now, if it needed one; released at its reply. */
    private ByteBuffer large;
    /** Where large inline writes' payloads go on their way to the image file, once asked for; null if they cannot. */
    private PayloadPipe pipe;

    private boolean pipeAsked;
    /** The inline write running now has its payload in {@link #pipe}. */
    private boolean staged;
    /**
     * While the inline write running now has its payload in the input buffer, narrowed to it: the
     * buffer's limit before, and where the payload ends; -1 otherwise.
     */
    private int inputLimit = -1;

    private int payloadEnd;

    PayloadBuffers(Connection connection, PayloadShare share) {
        this.connection = connection;
        this.input = connection.input();
        this.share = share;
    }

    /**
     * Waits until the payload has started to arrive: its first {@link #PAYLOAD_ARRIVED} bytes (or
     * all), buffered or waiting in the socket.
     */
    private void awaitPayloadStart(int length) throws IOException {
        input.awaitArrived(
                Math.min(length, Math.min(PAYLOAD_ARRIVED, input.buffer().capacity())));
    }

    /**
     * The buffer of a write that runs off the reader, filled: taken from the budget once the
     * payload has started to arrive (a header alone holds nothing), or null if the budget is spent.
     * {@code look}: the connection writes alone ({@link ConnectionInput#readInto(ByteBuffer, boolean)}).
     */
    ByteBuffer budgeted(int length, boolean look) throws IOException {
        awaitPayloadStart(length);
        ByteBuffer payload = share.take(length);
        if (payload != null) {
            try {
                input.readInto(payload, look);
            } catch (IOException | RuntimeException e) {
                share.give(payload);
                throw e;
            }
            payload.flip();
        }
        return payload;
    }

    /**
     * The payload of an inline write; null when it is held in the connection's pipe instead
     * ({@link #staged()}), which a large write's is when the connection can splice, or when a
     * large one found the budget spent.
     */
    ByteBuffer inlineWrite(int length) throws IOException {
        if (!pipeAsked && length >= PayloadPipe.MIN_LENGTH) {
            pipeAsked = true; // once: a connection that cannot splice goes without
            pipe = PayloadPipe.open(connection.plainSocket(), connection::isOpen);
        }
        if (pipe == null || !pipe.fits(length)) {
            return inline(length);
        }
        if (pipe.receive(input.buffer(), length)) {
            staged = true;
            return null;
        }
        ByteBuffer payload = scratch(length); // the pipe filled first: the rest comes the usual way
        pipe.drainInto(payload);
        input.readInto(payload);
        return payload.flip();
    }

    /**
     * The payload of an inline write: the input buffer narrowed to it (until {@link #inlineDone}),
     * the scratch buffer, or a budgeted one.
     */
    private ByteBuffer inline(int length) throws IOException {
        ByteBuffer in = input.buffer();
        if (length <= in.capacity() / 2) {
            input.require(length);
            // The input buffer itself, not a view of it: a view would be an object for each write
            // (the buffer is another after each idle wait), and one kept while the connection is
            // idle would hold on to a buffer the pool let go.
            inputLimit = in.limit();
            payloadEnd = in.position() + length;
            return in.limit(payloadEnd);
        }
        if (length > MAX_SCRATCH) {
            large = budgeted(length, false);
            return large;
        }
        awaitPayloadStart(length);
        ByteBuffer payload = scratch(length);
        input.readInto(payload);
        return payload.flip();
    }

    /** True while the inline write running now has its payload in the pipe. */
    boolean staged() {
        return staged;
    }

    /**
     * Writes the payload held in the pipe: straight into the image file if no layer needs its
     * bytes, else read into a buffer and written as any other.
     */
    void writeStaged(BlockDevice device, BlockRequest r) throws IOException {
        staged = false;
        try {
            if (device.writeStaged(r, pipe)) {
                connection.server().wroteThroughPipe();
                return;
            }
            ByteBuffer payload = scratch((int) r.length());
            pipe.drainInto(payload);
            device.write(r, payload.flip());
        } finally {
            pipe.discard(); // what a layer that failed left in the pipe
        }
    }

    /** The inline write running now will not run: its payload leaves the pipe, its buffer the budget. */
    void drop() {
        if (staged) {
            staged = false;
            pipe.discard();
        }
        inlineDone();
    }

    /**
     * The inline request running now replied: the input buffer reads on past its payload, and its
     * budgeted buffer, if it had one, goes back.
     */
    void inlineDone() {
        if (inputLimit >= 0) {
            input.buffer().limit(inputLimit).position(payloadEnd);
            inputLimit = -1;
        }
        if (large != null) {
            share.give(large);
            large = null;
        }
    }

    /** The scratch buffer, at least {@code length} bytes, limit set. */
    ByteBuffer scratch(int length) {
        if (scratch == null || scratch.capacity() < length) {
            BufferPool.SHARED.release(scratch);
            scratch = BufferPool.SHARED.acquire(length);
        }
        return scratch.clear().limit(length);
    }

    /** Bytes of scratch buffer held (a racy read for observers; exact once the reader waits idle). */
    long heldBytes() {
        ByteBuffer s = scratch;
        return s == null ? 0 : s.capacity();
    }

    /** The reader waits idle: the scratch buffer goes back to the pool until the next request. */
    void idle() {
        BufferPool.SHARED.release(scratch);
        scratch = null;
    }

    /** The connection is done: its buffers go back. */
    void release() {
        idle();
        inlineDone();
    }

    /** Closes the connection's pipe, when its reader is done. */
    void closePipe() {
        if (pipe != null) {
            pipe.close();
            pipe = null;
        }
    }
}
