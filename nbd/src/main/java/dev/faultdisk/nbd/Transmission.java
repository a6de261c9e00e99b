package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Completion;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.DisconnectException;
import dev.faultdisk.device.FileDevice;
import dev.faultdisk.device.PagePins;
import dev.faultdisk.device.PageSource;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.RequestTimer;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.TimedWaiter;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.net.Fatal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The transmission phase of one connection: decodes requests from the buffered input, has {@link
 * RequestValidator} check them, runs each as a {@link BlockRequest} on the export's device stack
 * (inline, submitted, or on a thread of its own) and answers through {@link Replies} (simple,
 * structured or extended, as negotiated). Small reads are read straight into the reply buffer; large read
 * payloads go out with a gathering write, or from the image file when no layer needs their bytes.
 */
final class Transmission {
    /** Reads up to this size are read straight into the reply buffer. */
    private static final int INLINE_READ = 64 * 1024;
    /** A write payload larger than the maximum but at most this is skipped; beyond it, disconnect. */
    private static final long MAX_SKIPPED_PAYLOAD = 4L * NbdProtocol.MAX_PAYLOAD;

    private final Connection connection;
    private final ReplyWriter writer;
    private final Replies replies;
    private final RequestValidator validator;
    private final BlockDevice device;
    /** Null when the export does not time requests: then the fast path reads no clock. */
    private final RequestTimer timer;

    private final ReplyForm form;
    /** Extended headers: 32-byte requests with 64-bit lengths, every reply a chunk. */
    private final boolean extended;

    private final RequestHeader header = new RequestHeader();
    /** Requests of this connection that reached the device stack; the reader alone counts them. */
    private long sequence;

    /** Requests that run off the reader, one virtual thread each; DISC waits for them (the spec says finish them). */
    private final ExecutorService requests;
    /**
     * Large writes may run on threads of their own: on a Unix socket, so that the reader receives
     * the next payload while one is written, when that is the faster way for a connection writing
     * alone ({@link LargeWriteStreams}: both ways tried by default). Over TCP large writes stay on
     * the reader, spliced ({@link PayloadPipe}): faster there. So do writes over TLS on either
     * socket, where the reader is busy decrypting, not waiting: off it they ran at 0.94 (TLS on a
     * Unix socket) and 0.97 (over TCP) of the reader's way.
     */
    private final boolean writesOffReader;
    /** Whether they do, for each one: while no other connection sends large writes. */
    private final LargeWriteStreams.Stream largeWrites;
    /** When the reader sends its pending replies within a burst of requests. */
    private final ReplyFlushes.Bursts flushes;
    /** Requests running off the reader; at the limit the reader waits (back-pressure, as QEMU does). */
    private final Semaphore inFlight;

    private final int maxInFlight;

    /** This connection's part of the payload budget. */
    private final PayloadShare payloads;
    /** Where the reader puts payloads. */
    private final PayloadBuffers buffers;
    /**
     * How a large read that no layer needs leaves, from {@code -Dfaultdisk.nbd.fileReads}, read
     * as the connection starts: {@code map} (the default) writes it from a mapping of the image
     * (one copy, in the kernel), {@code sendfile} sends the page-cache pages themselves (no copy
     * here, but a client on the same host then copies them cold), {@code copy} reads it into a
     * buffer first as any read, {@code uring} reads inline reads through io_uring in one call with
     * their replies' send ({@link UringReads}; large ones as {@code map}), or as {@code copy} where
     * the kernel refuses io_uring (docs/BENCHMARKS.md). Over TLS {@code copy}, or else {@code map}
     * with the session sealing from the mapping.
     */
    private final String fileReads;
    /** The memory pages a read being sent holds (under the writer's lock, as the views are). */
    private final PagePins pins = new PagePins();
    /** {@code fileReads} is {@code uring}: asked on every inline read, so a field, not a string test. */
    private final boolean uringReads;
    /** The socket is plain: a file that cannot be mapped goes out by sendfile (TLS copies it instead). */
    private final boolean sendsFiles;

    private final FileMappings.Cache mappings = new FileMappings.Cache();
    private final ResumedRequests resumed;
    /** Where submitted requests wait out their delays on real time, and go on after them. */
    private final DelayWaiter delays;
    /** The reader serving the delays itself, while they wait and it has no request to decode. */
    private final DelaysOnReader onReader;

    Transmission(Connection connection, Negotiation negotiation, ReplyWriter writer) {
        this.connection = connection;
        this.writer = writer;
        this.device = negotiation.export().device();
        this.timer = negotiation.export().timer();
        this.extended = negotiation.extendedHeaders();
        this.form = ReplyForm.of(negotiation.structuredReplies(), extended);
        this.replies = new Replies(connection, writer, form);
        this.validator = new RequestValidator(
                device.size(),
                negotiation.structuredReplies(),
                extended,
                negotiation.baseAllocation(),
                device::isReadOnly);
        this.maxInFlight = connection.server().options().maxInFlight();
        this.inFlight = new Semaphore(maxInFlight);
        this.payloads = new PayloadShare(connection.server().budget(), connection.id());
        this.buffers = new PayloadBuffers(connection, payloads);
        String asked = System.getProperty("faultdisk.nbd.fileReads", "map");
        ReplyWriter.Carrier carrier = writer.carrier();
        this.sendsFiles = carrier == ReplyWriter.Carrier.SOCKET;
        String reads =
                sendsFiles ? asked : carrier == ReplyWriter.Carrier.SESSION && !asked.equals("copy") ? "map" : "copy";
        this.fileReads = reads.equals("uring") && !writer.startUring() ? "copy" : reads;
        this.uringReads = fileReads.equals("uring");
        this.writesOffReader =
                connection.server().largeWrites().enabled() && !connection.overTcp() && !connection.overTls();
        this.largeWrites = connection.server().largeWrites().stream(connection.id());
        this.flushes = connection
                .server()
                .replyFlushes()
                .connection(connection.id(), connection.overTls(), connection.overTcp());
        this.requests = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("nbd-req-" + connection.id() + "-", 0).factory());
        this.resumed = new ResumedRequests("nbd-resumed-" + connection.id(), this::flushReplies, this::failed);
        this.delays = new DelayWaiter("nbd-delays-" + connection.id(), this::flushReplies);
        this.onReader = new DelaysOnReader(connection, delays, writer);
    }

    /**
     * Reads and runs requests until the client disconnects (false), or until the connection moved
     * to another thread (true), which goes on by calling this again.
     */
    boolean run() throws IOException, ProtocolException {
        boolean moved = false;
        try {
            while (true) {
                ByteBuffer in = connection.input().buffer();
                if (!RequestDecoder.decode(in, header, extended)) {
                    if (DelaysOnReader.ENABLED) {
                        onReader.serveUntilInput();
                    }
                    writer.flush();
                    flushes.burstEnded();
                    int n = in.hasRemaining()
                            ? connection.input().fill(RequestDecoder.headerSize(extended))
                            : awaitIdle();
                    if (n == ReaderThreads.MOVED) {
                        moved = true;
                        return true;
                    }
                    if (n < 0) {
                        connection.inputEnded();
                        if (connection.isClosing()) {
                            awaitInFlight(); // our own shutdown: requests already read still answer
                        }
                        return false;
                    }
                    continue;
                }
                if (header.type == NbdProtocol.CMD_DISC) {
                    connection.disconnectAsked();
                    writer.flush();
                    awaitInFlight();
                    return false;
                }
                handle(header);
                if (flushes.served()) {
                    writer.flushIfFree();
                }
            }
        } finally {
            delays.readerServes(false); // the reader goes: the thread serves on time
            if (!moved) {
                writer.flush();
            }
        }
    }

    /**
     * Waits for the next request with the connection's large buffers back in the pool (the reply
     * buffer, the scratch buffer, the input buffer): an idle connection holds a few KiB, not
     * hundreds. Under load the buffers come straight back from the pool.
     */
    private int awaitIdle() throws IOException {
        writer.idle();
        buffers.idle();
        return connection.awaitInput();
    }

    /**
     * Stops taking requests off the reader; true if none still runs (then the connection's
     * buffers may go back to the pool: no late reply writes into them).
     */
    boolean finish() {
        requests.shutdown();
        return requests.isTerminated() && inFlight.availablePermits() == maxInFlight;
    }

    /**
     * Waits for requests in flight (on threads of their own, or submitted and waiting on a timer);
     * gives up when the connection is closed (the shutdown's grace is over).
     */
    private void awaitInFlight() {
        requests.shutdown();
        if (finish()) {
            return;
        }
        CompletableFuture<Void> done = CompletableFuture.runAsync(
                () -> {
                    requests.close();
                    inFlight.acquireUninterruptibly(maxInFlight); // every slot back: nothing runs
                    inFlight.release(maxInFlight);
                },
                Thread::startVirtualThread);
        CompletableFuture.anyOf(done, connection.closed()).join();
    }

    /**
     * Validates a request and runs it: inline on the reader thread (the fast path), or on a
     * virtual thread of its own when the device stack says a call may block (breakpoints, held or
     * delayed requests), so that a stuck request never holds up the others, or, a large write of
     * a connection writing alone over a Unix socket, on a kept platform thread ({@link
     * OffReaderWriters}) while the reader receives the next.
     */
    private void handle(RequestHeader h) throws IOException, ProtocolException {
        if (timer != null) {
            h.arrival = System.nanoTime(); // its header is in; a write's payload may still be on its way
        }
        if (validator.filtersBlockStatus(h) && !takeStatusFilter(h)) {
            return;
        }
        int error = validator.check(h);
        if (error != 0) {
            if (validator.carriesPayload(h)) {
                skipPayload(h);
            }
            replies.error(h, error, RequestValidator.message(h, error), -1);
            return;
        }
        boolean largeWrite = h.type == NbdProtocol.CMD_WRITE && h.length >= PayloadPipe.MIN_LENGTH;
        boolean offReader = largeWrite && writesOffReader && largeWrites.offReader(h.length);
        // Where no write goes off the reader (TCP, TLS), which way a large one is received depends
        // on whether others send them too (PayloadBuffers#inlineWrite).
        boolean alone = largeWrite && !writesOffReader && largeWrites.alone();
        boolean mayBlock = device.mayBlock();
        boolean async = offReader || mayBlock;
        if (async) {
            awaitSlot();
        }
        boolean slot = async;
        StagedPages pages = null;
        try {
            ByteBuffer payload = null;
            if (h.type == NbdProtocol.CMD_WRITE) {
                if (offReader && !mayBlock) {
                    pages = buffers.offReaderPages(device, h.offset, (int) h.length);
                }
                if (pages == null) {
                    payload = async
                            ? buffers.budgeted((int) h.length, offReader)
                            : buffers.inlineWrite(device, h.offset, (int) h.length, alone);
                }
                if (payload == null && pages == null && offReader && !mayBlock) {
                    // The payload budget is spent: the write goes the reader's way, as it would
                    // without this path, rather than being refused.
                    offReader = false;
                    async = false;
                    slot = false;
                    inFlight.release();
                    payload = buffers.inlineWrite(device, h.offset, (int) h.length, alone);
                }
                if (payload == null && pages == null && !buffers.staged()) {
                    connection.input().skip(h.length);
                    replies.error(h, NbdProtocol.ENOMEM, payloads.refuse(h), -1);
                    return;
                }
            }
            if (connection.isClosing()) {
                if (async) {
                    payloads.give(payload); // its pages, if it has them, go below
                } else {
                    buffers.drop();
                }
                replies.error(h, NbdProtocol.ESHUTDOWN, "server is shutting down", -1);
                return;
            }
            // Numbered in arrival order, so that layers that count requests (triggers) can count them in
            // that order even when they run on threads of their own.
            h.sequence = RequestValidator.reachesDevice(h) ? ++sequence : 0;
            if (!async) {
                execute(h, payload, null, true);
                return;
            }
            RequestHeader request = h.copy();
            ByteBuffer owned = payload;
            StagedPages ownedPages = pages;
            pages = null; // the request's now
            if (offReader) {
                connection.server().wroteOffReader();
            } else if (submits(h)) {
                slot = false; // the submitted request gives it back when it completes
                new Submitted(request, owned).start();
                return;
            }
            try {
                Runnable run = () -> {
                    try {
                        execute(request, owned, ownedPages, false);
                        writer.flush();
                    } catch (Throwable e) {
                        failed(e);
                    } finally {
                        payloads.give(owned);
                        givePages(ownedPages);
                        inFlight.release();
                    }
                };
                if (offReader && !mayBlock) {
                    OffReaderWriters.shared()
                            .execute(run, requests); // a write no layer can hold: a kept platform thread
                } else {
                    requests.execute(run);
                }
                slot = false; // the request gives it back
            } catch (RuntimeException e) {
                payloads.give(owned);
                givePages(ownedPages);
                throw e;
            }
        } finally {
            givePages(pages); // not handed to a request: it failed first
            if (slot) {
                inFlight.release();
            }
        }
    }

    /** Lets go of a write's pages the device did not take, and of what they counted in the payload budget. */
    private void givePages(StagedPages pages) {
        if (pages != null) {
            pages.discard();
            payloads.discharge(pages.length());
        }
    }

    /**
     * True if the request runs without a thread of its own: the stack's only possible waits are
     * timed ones (delays, throttles), which it serves on a timer ({@link BlockDevice#submit}).
     */
    private boolean submits(RequestHeader h) {
        return switch (h.type) {
            case NbdProtocol.CMD_READ -> h.length > 0 && device.timedWaitsOnly();
            case NbdProtocol.CMD_WRITE, NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_TRIM, NbdProtocol.CMD_WRITE_ZEROES ->
                RequestValidator.reachesDevice(h) && device.timedWaitsOnly();
            default -> false; // block status gathers its extents on a thread of its own
        };
    }

    /**
     * A request that holds no thread while it waits: submitted to the stack on the reader, it
     * holds its in-flight slot and its budgeted buffers until it completes; its reply is built
     * where it completes (on the reader at once, or on the connection's resumed-requests thread
     * after a timed wait), and leaves with the replies built alongside.
     */
    private final class Submitted implements Completion {
        private final RequestHeader h;
        private final ByteBuffer payload;
        private ByteBuffer data;
        /** Why it was refused before it reached the stack, if it was. */
        private String refused;

        Submitted(RequestHeader h, ByteBuffer payload) {
            this.h = h;
            this.payload = payload;
        }

        void start() {
            BlockOp op = RequestValidator.opOf(h.type);
            if (op == BlockOp.READ) {
                data = payloads.take((int) h.length);
                if (data == null) {
                    refused = payloads.refuse(h);
                    complete(null);
                    return;
                }
            }
            device.submit(request(h, op, true), op == BlockOp.READ ? data : payload, null, this);
        }

        @Override
        public TimedWaiter waiter() {
            return delays;
        }

        @Override
        public void resume(Runnable rest) {
            resumed.resume(rest);
        }

        @Override
        public void complete(Throwable failure) {
            try {
                answer(failure);
            } catch (Throwable e) {
                failed(e);
            } finally {
                if (timer != null) {
                    timer.completed(RequestValidator.opOf(h.type), System.nanoTime() - h.arrival);
                }
                payloads.give(payload);
                payloads.give(data);
                inFlight.release();
            }
        }

        private void answer(Throwable failure) throws Throwable {
            if (refused != null) {
                replies.error(h, NbdProtocol.ENOMEM, refused, -1);
                return;
            }
            switch (failure) {
                case null -> {
                    if (h.type != NbdProtocol.CMD_READ) {
                        replies.ok(h);
                    } else if (replies.holeFits(data.flip())) {
                        replies.hole(h);
                    } else if (data.remaining() > INLINE_READ) {
                        replies.read(h, data);
                    } else {
                        replies.readCopied(h, data); // leaves with the replies beside it
                    }
                }
                case DisconnectException e
                when h.type == NbdProtocol.CMD_READ -> {
                    if (e.midReply()) {
                        replies.read(h, data.position(0).limit((int) h.length / 2));
                    }
                    replies.drop(null);
                }
                case IOException e -> replies.failure(h, e);
                default -> throw failure;
            }
        }
    }

    /** Sends the replies built so far; a failure ends the connection as any reply's does. */
    private void flushReplies() {
        try {
            writer.flush();
        } catch (IOException e) {
            failed(e);
        }
    }

    /** Waits for a free in-flight slot; a connection that closes meanwhile ends the wait. */
    private void awaitSlot() throws IOException {
        if (inFlight.tryAcquire()) {
            return; // the common case: replies stay batched until the reader waits for input
        }
        writer.flush(); // replies ready now must not wait for the slot
        delays.readerServes(false); // nor delays falling due meanwhile
        try {
            while (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                if (!connection.isOpen()) {
                    throw new ClosedChannelException();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for a request slot");
        }
    }

    /** A request off the reader failed: drop the connection as the reader does, never leave the client waiting. */
    private void failed(Throwable e) {
        if (e instanceof IOException) {
            connection.close(); // the socket failed under us: nothing more can be said
            return;
        }
        Fatal.check(e, "NBD request of connection " + connection.id()); // a bug below
        connection.internalError(e);
    }

    /**
     * Runs a validated request and replies. {@code pages}: the memory export's pages a write off
     * the reader was received into ({@link PayloadBuffers#offReaderPages}), else null. {@code
     * inline}: on the reader thread, batching replies.
     */
    private void execute(RequestHeader h, ByteBuffer payload, StagedPages pages, boolean inline) throws IOException {
        try {
            run(h, payload, pages, inline);
        } finally {
            if (timer != null && h.sequence != 0) {
                timer.completed(RequestValidator.opOf(h.type), System.nanoTime() - h.arrival);
            }
            if (inline) {
                buffers.inlineDone();
            }
        }
    }

    private void run(RequestHeader h, ByteBuffer payload, StagedPages pages, boolean inline) throws IOException {
        try {
            if (!RequestValidator.reachesDevice(h)) {
                replies.ok(h);
                return;
            }
            switch (h.type) {
                case NbdProtocol.CMD_WRITE -> {
                    BlockRequest r = request(h, BlockOp.WRITE, inline);
                    if (payload != null) {
                        device.write(r, payload);
                    } else if (pages == null) {
                        buffers.writeStaged(device, r);
                    } else if (!PayloadBuffers.putInPlace(device, r, pages, connection.server())) {
                        // Rare (a rule added between arrival and write) and within the in-flight
                        // slots: a heap buffer rather than a second hold on the payload budget the
                        // pages count in.
                        PayloadBuffers.copyOut(device, r, pages, ByteBuffer.allocate(pages.length()));
                    }
                    replies.ok(h);
                }
                case NbdProtocol.CMD_READ -> read(h, inline);
                case NbdProtocol.CMD_FLUSH -> {
                    device.flush(request(h, BlockOp.FLUSH, inline));
                    replies.ok(h);
                }
                case NbdProtocol.CMD_TRIM -> {
                    device.trim(request(h, BlockOp.TRIM, inline));
                    replies.ok(h);
                }
                case NbdProtocol.CMD_WRITE_ZEROES -> {
                    device.writeZeroes(request(h, BlockOp.WRITE_ZEROES, inline));
                    replies.ok(h);
                }
                case NbdProtocol.CMD_BLOCK_STATUS ->
                    replies.blockStatus(
                            h,
                            Extents.of(
                                    device,
                                    request(h, BlockOp.BLOCK_STATUS, inline),
                                    extended ? Extents.MAX_EXTENT_EXT : Extents.MAX_EXTENT));
                default -> throw new IllegalStateException("validated command " + h.type);
            }
        } catch (IOException e) {
            replies.failure(h, e);
        }
    }

    /**
     * Reads a filtering BLOCK_STATUS's payload ({@link BlockStatusFilter}) and makes {@code h} the
     * plain request it stands for: its effect length, no payload flag. False if the filter is
     * refused (EINVAL, as the spec asks), its payload consumed either way.
     */
    private boolean takeStatusFilter(RequestHeader h) throws IOException, ProtocolException {
        String problem;
        if (h.length < 0 || h.length > BlockStatusFilter.MAX_LENGTH) {
            skipPayload(h);
            problem = "block status payload of " + h.length + " bytes names more contexts than this server has";
        } else {
            ByteBuffer filter = ByteBuffer.allocate((int) h.length); // rare, and at most 12 bytes
            connection.input().readInto(filter);
            problem = BlockStatusFilter.problem(filter.flip());
            if (problem == null) {
                h.length = BlockStatusFilter.effectLength(filter);
                h.flags &= ~NbdProtocol.CMD_FLAG_PAYLOAD_LEN;
                return true;
            }
        }
        replies.error(h, NbdProtocol.EINVAL, problem, -1);
        return false;
    }

    /**
     * Consumes the payload of a request refused before it ran, so the next request starts after
     * it; one past {@link #MAX_SKIPPED_PAYLOAD} (or of more than 63 bits) ends the connection.
     */
    private void skipPayload(RequestHeader h) throws IOException, ProtocolException {
        if (h.length < 0 || h.length > MAX_SKIPPED_PAYLOAD) {
            throw new ProtocolException(
                    NbdProtocol.commandName(h.type) + " payload of " + Long.toUnsignedString(h.length) + " bytes");
        }
        connection.input().skip(h.length);
    }

    /** The stack's request for a validated NBD request: the only object the inline path allocates per request. */
    private BlockRequest request(RequestHeader h, BlockOp op, boolean inline) {
        return BlockRequest.of(
                op, h.offset, h.length, RequestValidator.blockFlags(h.flags), connection.id(), inline, h.sequence);
    }

    private void read(RequestHeader h, boolean inline) throws IOException {
        int length = (int) h.length;
        int headerSize = replies.readHeaderSize();
        if (length == 0) {
            replies.emptyRead(h);
            return;
        }
        BlockRequest r = request(h, BlockOp.READ, inline);
        if (inline && length <= INLINE_READ) {
            readInline(h, r, length, headerSize);
            return;
        }
        // A large read no layer needs comes from the backend's file or pages; the stack has passed it
        // on (and counted it), so if it cannot go out straight from the file it is read from the file below.
        ReadSource from = inline && !"copy".equals(fileReads) ? device.readSource(r) : null;
        if (from instanceof PageSource pages) {
            sendPages(h, pages, length, headerSize);
            return;
        }
        FileChannel source = from instanceof ReadSource.File file ? file.channel() : null;
        if (source != null && sendFromFile(h, source, length, headerSize)) {
            return;
        }
        boolean budgeted = !inline || length > PayloadBuffers.MAX_SCRATCH;
        ByteBuffer data = budgeted ? payloads.take(length) : buffers.scratch(length);
        if (data == null) {
            replies.error(h, NbdProtocol.ENOMEM, payloads.refuse(h), -1);
            return;
        }
        try {
            try {
                if (source != null) {
                    FileDevice.readFully(source, data, h.offset);
                } else {
                    device.read(r, data);
                }
            } catch (DisconnectException e) {
                if (e.midReply()) {
                    replies.read(h, data.position(0).limit(length / 2)); // the header, half the data
                }
                replies.drop(null);
            }
            if (replies.holeFits(data.flip())) {
                replies.hole(h);
                return;
            }
            replies.read(h, data);
        } finally {
            if (budgeted) {
                payloads.give(data);
            }
        }
    }

    /**
     * Sends a large read straight from the backend's file (see {@link BlockDevice#readSource}): from
     * its mapping, or by sendfile when so asked or when the file cannot be mapped. Over TLS the
     * session seals it from the mapping (its copy out of the mapping is the only one). False if
     * neither can be: over TLS a file that cannot be mapped (over {@link FileMappings}' limit).
     */
    private boolean sendFromFile(RequestHeader h, FileChannel source, int length, int headerSize) throws IOException {
        ByteBuffer mapped = "sendfile".equals(fileReads) ? null : mappings.view(source, h.offset, length);
        if (mapped == null && !sendsFiles) {
            return false;
        }
        // Counted before the reply leaves: a client that has its bytes may ask at once how they went.
        if (sendsFiles) {
            connection.server().sentFromFile();
        } else {
            connection.server().sealedFromFile();
        }
        writer.lock();
        try {
            ReplyEncoder.readHeader(writer.reserve(headerSize), form, h.cookie, h.offset, length);
            if (mapped != null) {
                writer.flushWithPayloadLocked(mapped);
            } else {
                writer.flushWithFileLocked(source, h.offset, length);
            }
        } catch (IOException e) {
            // Part of the reply may be out (a file shrunk under its mapping fails the write with
            // EFAULT): no error reply can follow it on this stream, so the connection ends.
            connection.close();
            throw e;
        } catch (InternalError e) {
            // The JDK's copy out of a mapping (TLS seals that copy) met a page gone with a shrunk
            // file: as EFAULT above.
            connection.closeBecause("the image file shrank under a read from its mapping");
            throw new IOException("the image file shrank under a read from its mapping", e);
        } finally {
            writer.unlock();
        }
        return true;
    }

    /**
     * Sends a large read straight from a memory device's pages ({@link PageSource}): no copy into a
     * buffer first, the kernel copies each page into the socket (TLS seals from it). A read of
     * pages none of which was written is answered as a hole where replies are structured.
     */
    private void sendPages(RequestHeader h, PageSource pages, int length, int headerSize) throws IOException {
        long end = h.offset + length;
        int spanned = (int) (((h.offset & (PageSource.PAGE - 1)) + length + PageSource.PAGE - 1) / PageSource.PAGE);
        writer.lock();
        try {
            ByteBuffer[] views = writer.viewArray(spanned);
            int n = pages.views(h.offset, length, views, 1, pins);
            if (n < 0 && form.chunks() && spanned < views.length) {
                writer.forgetViews(-n);
                ReplyEncoder.hole(writer.reserve(ReplyEncoder.holeSize(form)), form, h.cookie, h.offset, length);
                return;
            }
            connection.server().sentFromMemory(); // before the reply leaves, as for a file
            ReplyEncoder.readHeader(writer.reserve(headerSize), form, h.cookie, h.offset, length);
            long at = h.offset;
            while (true) {
                n = Math.abs(n);
                at += writer.flushWithViewsLocked(n);
                pages.release(pins); // sent: a page trimmed meanwhile may now go to another block
                if (at >= end) {
                    return;
                }
                n = pages.views(at, end - at, views, 1, pins);
            }
        } finally {
            pages.release(pins);
            writer.unlock();
        }
    }

    private void readInline(RequestHeader h, BlockRequest r, int length, int headerSize) throws IOException {
        writer.lock();
        try {
            ByteBuffer out = writer.reserve(headerSize + length);
            int start = out.position();
            ReplyEncoder.readHeader(out, form, h.cookie, h.offset, length);
            int data = out.position();
            try {
                FileChannel source =
                        uringReads && device.readSource(r) instanceof ReadSource.File file ? file.channel() : null;
                if (source != null) {
                    if (writer.readFromFile(source, data, length, h.offset)) {
                        connection.server().readThroughIoUring(); // done with the flush
                    }
                } else {
                    // The data goes straight into the reply buffer, narrowed to it for the read: a
                    // view of the buffer would be an object for each read (the lock keeps the buffer
                    // the reader's until the limit is put back).
                    out.limit(data + length);
                    try {
                        device.read(r, out);
                    } finally {
                        out.limit(out.capacity());
                    }
                }
            } catch (DisconnectException e) {
                // Replies before this one go out whole; of this one, part of the data if asked.
                out.position(e.midReply() ? data + length / 2 : start);
                writer.flushLocked();
                connection.close();
                throw new ClosedChannelException();
            } catch (IOException e) {
                out.position(start);
                int errno =
                        e instanceof DeviceException de ? RequestValidator.nbdError(h, de.errno()) : NbdProtocol.EIO;
                long at = e instanceof DeviceException de ? de.offset() : -1;
                replies.encodeError(h, errno, e.getMessage() == null ? e.toString() : e.getMessage(), at);
                return;
            } catch (RuntimeException e) {
                out.position(start); // take back the header already built: no partial reply goes out
                throw e;
            }
            out.position(data + length);
        } finally {
            writer.unlock();
        }
    }

    /** Bytes of scratch buffer held (a racy read for observers; exact once the reader waits idle). */
    long heldBytes() {
        return buffers.heldBytes();
    }

    /** Returns the connection's buffers to the pool. */
    void release() {
        buffers.release();
    }

    /** The reader is done: lets the connection's pipe go. */
    void readerDone() {
        buffers.closePipe();
    }
}
