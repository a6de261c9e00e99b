package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a connection's reader puts request payloads: a view of the input buffer for a small
 * write (no copy, nothing allocated), a scratch buffer kept between requests (up to
 * {@link #MAX_SCRATCH}), the memory export's own pages a large write goes to ({@link StagedPages}),
 * the pipe a large write is spliced into on its way to the image file, and buffers from the
 * connection's {@link PayloadShare} beyond those. The reader thread alone uses it.
 */
final class PayloadBuffers {
    /** The largest scratch buffer a connection keeps between requests; larger payloads come from the budget. */
    static final int MAX_SCRATCH = 1 << 20;
    /** A large write's buffer is taken once this much of its payload (or all of it) has arrived. */
    private static final int PAYLOAD_ARRIVED = 128 * 1024;
    /**
     * Large inline writes to a memory export are received into its pages ({@link StagedPages});
     * {@code -Dfaultdisk.nbd.pagedWrites=false} turns that off (they go the pipe's or the buffered way).
     */
    private static final boolean PAGED = Boolean.parseBoolean(System.getProperty("faultdisk.nbd.pagedWrites", "true"));

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
    /** The inline write running now has its payload in {@link #pipe}, or in {@link #paged}. */
    private boolean staged;
    /** The pages of the memory export the inline write running now was received into; null if none. */
    private StagedPages paged;
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
        input.awaitArrived(payloadStart(length));
    }

    /** The bytes of a payload of {@code length} that show it has started to arrive. */
    private int payloadStart(int length) {
        return Math.min(length, Math.min(PAYLOAD_ARRIVED, input.buffer().capacity()));
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
     * The pages of a memory export a write that runs off the reader goes to, its payload received
     * into them, or null where the device offers none or the connection's share of the payload
     * budget cannot cover them: they stand in for its budgeted buffer, and count as one until
     * {@link PayloadShare#discharge}. Taken once the payload has started to arrive, as a buffer
     * is. The write then puts them in place on its own thread: the server's one copy of the
     * payload is the reader's, where a buffer cost a second copy on the writer.
     */
    StagedPages offReaderPages(BlockDevice device, long offset, int length) throws IOException {
        if (!PAGED) {
            return null;
        }
        awaitPayloadStart(length);
        StagedPages pages = device.stagePages(offset, length); // null at once for an image file
        if (pages == null) {
            return null;
        }
        if (!share.charge(length)) {
            pages.discard();
            return null;
        }
        try {
            input.readInto(pages.views(), true); // a write off the reader: its connection writes alone
        } catch (IOException | RuntimeException e) {
            pages.discard();
            share.discharge(length);
            throw e;
        }
        return pages;
    }

    /**
     * The payload of an inline write of {@code length} bytes at {@code offset} of {@code device};
     * null when it is held in the export's pages or in the connection's pipe instead ({@link
     * #staged()}), or when a large one found the budget spent. A large write's payload goes
     * into the export's pages when the device is memory and no layer needs the bytes, unless the
     * connection can splice and is not {@code alone} in sending large writes: then, as for an image
     * file, into the pipe. (Received into pages, one connection's sequential writes ran 1.06-1.24x
     * the pipe's speed, its client's CPU a MiB lower, the pipe no longer holding its socket's
     * pages; four connections' 0.89-0.95x, each reader's copy from the socket dearer than its
     * splice: docs/BENCHMARKS.md, "This round (after 1dff05f)".)
     */
    ByteBuffer inlineWrite(BlockDevice device, long offset, int length, boolean alone) throws IOException {
        openPipe(length);
        if (PAGED
                && length > input.buffer().capacity() / 2
                && length <= MAX_SCRATCH
                && (alone || pipe == null || !pipe.fits(length))) {
            if (pipe == null) {
                // Nothing to splice: the start may be read into the input buffer first, so the
                // pages are asked for once (over TLS only decrypted bytes show it has arrived).
                awaitPayloadStart(length);
            }
            // Else asked for before the payload is awaited: waiting first would read its start
            // into the input buffer, where an image file's pipe (the device's answer is null)
            // splices it.
            StagedPages into = device.stagePages(offset, length);
            if (into != null && !input.arrived(payloadStart(length))) {
                // A header alone holds none of the export's memory (a thousand stalled headers
                // would hold 1 GiB of it): the pages go back until the payload starts, which a
                // memory export's write may read into the input buffer.
                into.discard();
                awaitPayloadStart(length);
                into = device.stagePages(offset, length);
            }
            if (into != null) {
                receive(into, length);
                paged = into;
                staged = true;
                return null;
            }
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

    /** Opens the connection's pipe the first time a write of {@code length} bytes could use it. */
    private void openPipe(int length) {
        if (!pipeAsked && length >= PayloadPipe.MIN_LENGTH) {
            pipeAsked = true; // once: a connection that cannot splice goes without
            pipe = PayloadPipe.open(connection.plainSocket(), connection::isOpen);
        }
    }

    /**
     * Reads the payload, {@code length} bytes, into {@code pages}; they go back if it does not all
     * arrive. Where the pipe raises the receive low-water mark for spliced payloads (BBR), the
     * payload is awaited whole in the socket first, as a spliced one is.
     */
    private void receive(StagedPages pages, int length) throws IOException {
        try {
            if (pipe != null) {
                pipe.awaitQueued(length - Math.min(length, input.buffer().remaining()));
            }
            input.readInto(pages.views(), false);
        } catch (IOException | RuntimeException e) {
            pages.discard();
            throw e;
        }
    }

    /** True while the inline write running now has its payload in the pipe or the export's pages. */
    boolean staged() {
        return staged;
    }

    /**
     * Writes the payload held in the export's pages or the pipe: put in place, or straight into
     * the image file, if no layer needs its bytes, else read into a buffer and written as any other.
     */
    void writeStaged(BlockDevice device, BlockRequest r) throws IOException {
        staged = false;
        StagedPayload payload = paged != null ? paged : pipe;
        try {
            if (!putInPlace(device, r, payload, connection.server())) {
                copyOut(device, r, payload, scratch((int) r.length())); // a layer came to need the bytes
            }
        } finally {
            letGo(); // what a layer that failed left
        }
    }

    /**
     * Puts a staged payload in place (into the export's pages, or spliced into the image file) and
     * counts it; false if a layer needs its bytes, which {@link #copyOut} then gives it.
     */
    static boolean putInPlace(BlockDevice device, BlockRequest r, StagedPayload payload, NbdServer server)
            throws IOException {
        if (!device.writeStaged(r, payload)) {
            return false;
        }
        if (payload instanceof StagedPages) {
            server.wroteIntoPages();
        } else {
            server.wroteThroughPipe();
        }
        return true;
    }

    /** Writes a staged payload the buffered way, read into {@code buffer} (its limit the payload's length). */
    static void copyOut(BlockDevice device, BlockRequest r, StagedPayload payload, ByteBuffer buffer)
            throws IOException {
        payload.readInto(buffer);
        device.write(r, buffer.flip());
    }

    /** The staged payload's pages, or what is left in the pipe, go. */
    private void letGo() {
        if (paged != null) {
            paged.discard();
            paged = null;
        } else if (pipe != null) { // closed already if the reader ended mid-request
            pipe.discard();
        }
    }

    /** The inline write running now will not run: its payload leaves the pipe or the pages, its buffer the budget. */
    void drop() {
        inlineDone();
    }

    /**
     * The inline request running now replied: the input buffer reads on past its payload, and its
     * budgeted buffer, if it had one, goes back; so do its pages or its pipe's bytes, if it failed
     * before its write took them.
     */
    void inlineDone() {
        if (staged) {
            staged = false;
            letGo();
        }
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
