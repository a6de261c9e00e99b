package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonStreamParser;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.Fatal;
import dev.faultdisk.wire.net.RateLimitedLog;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;

/**
 * One client connection: its own parser, negotiation state and bounded output queue, a reader
 * thread that parses and runs commands one at a time and writes a reply itself when nothing is
 * queued before it, and a writer thread for the rest (events, and replies behind them). Bad
 * input or a stalled client affects only this session.
 */
public final class QmpSession {
    private static final System.Logger LOG = System.getLogger(QmpSession.class.getName());
    private static final RateLimitedLog BEHIND = new RateLimitedLog(LOG, 10_000);
    /** Lines written with one call, at most (a longer line goes on its own). */
    private static final int BATCH_BYTES = 16 * 1024;

    private final QmpServer server;
    private final SocketChannel channel;
    /** What the session reads and writes: the socket, or TLS over it once the reader has shaken hands. */
    private volatile ByteChannel io;

    private final CompletableFuture<ByteChannel> opened = new CompletableFuture<>();
    private final QmpServer.Options options;
    private final long id;
    private final String remote;
    private final OutputQueue output;
    private final JsonStreamParser parser;
    private final Dispatcher dispatcher;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean negotiated;
    private volatile boolean rejected;
    /** Lines taken when the current spell of dropped events began, or -1; guarded by the emit lock. */
    private long stallTaken = -1;
    /** When the writer last made progress during a spell of dropped events; guarded by the emit lock. */
    private Instant stallSince;

    QmpSession(
            QmpServer server,
            SocketChannel channel,
            long id,
            String remote,
            QmpServer.Options options,
            Dispatcher dispatcher) {
        this.server = server;
        this.channel = channel;
        this.id = id;
        this.remote = remote;
        this.options = options;
        this.output =
                new OutputQueue(options.maxQueuedBytes(), options.eventLinger().toNanos(), System::nanoTime);
        this.parser = new JsonStreamParser(options.sessionLimits());
        this.dispatcher = dispatcher;
    }

    /** A number unique within the server, for logs. */
    public long id() {
        return id;
    }

    /** The client's address as text (for a Unix socket: the server's socket path). */
    public String remoteAddress() {
        return remote;
    }

    /** Whether qmp_capabilities has succeeded on this session. */
    public boolean isNegotiated() {
        return negotiated;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /** Bytes of output waiting for the client. */
    long queuedBytes() {
        return output.bytes();
    }

    /** Events this session did not get because its output queue was full. */
    public long eventsDropped() {
        return output.eventsDropped();
    }

    /** Ends the session at once (queued output is dropped). */
    public void close() {
        close("closed by the server");
    }

    void negotiate() {
        negotiated = true;
    }

    void start(byte[] greeting) {
        output.offer(greeting);
        server.startWriter("qmp-" + id + "-out", this::writeLoop);
        server.startReader("qmp-" + id + "-in", this::readLoop);
    }

    /** Whether the client must still prove the shared secret (with qmp_capabilities). */
    boolean needsSecret() {
        return options.endpoint().secret() != null && !negotiated;
    }

    ControlEndpoint endpoint() {
        return options.endpoint();
    }

    /** After a failed secret check: the error reply goes out, then the session ends. */
    void rejectAfterReply() {
        rejected = true;
    }

    /**
     * Queues an event line if the session takes events and has room; else the event is dropped
     * and counted, and a session that has read nothing for the stall timeout while dropping is
     * closed. Called under the server's emit lock.
     */
    void deliver(byte[] line) {
        if (closed.get() || output.offerEvent(line) != OutputQueue.EventOutcome.DROPPED) {
            return;
        }
        server.droppedEvent();
        long taken = output.taken();
        Instant now = options.clock().instant();
        if (taken != stallTaken) {
            if (stallTaken < 0) {
                BEHIND.log(
                        Level.WARNING,
                        "behind",
                        "QMP session " + id + " (" + remote
                                + ") does not keep up: events are dropped for it and counted in "
                                + QmpServer.EVENTS_DROPPED);
            }
            stallTaken = taken;
            stallSince = now;
        } else if (Duration.between(stallSince, now).compareTo(options.stallTimeout()) >= 0) {
            LOG.log(
                    Level.WARNING,
                    "QMP session {0} ({1}) dropped: it has read nothing for {2} and its output queue is full",
                    Long.toString(id), // not MessageFormat's "1,000"
                    remote,
                    options.stallTimeout());
            close("output queue full, nothing read");
        }
    }

    /** Queues the notice of dropped events (see {@link QmpServer#noticeDrops}). */
    void offerDropNotice(LongFunction<byte[]> notice) {
        if (output.offerDropNotice(notice)) {
            stallTaken = -1;
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        try {
            try {
                io = options.endpoint().open(channel);
            } catch (IOException e) {
                opened.completeExceptionally(e);
                throw e;
            }
            opened.complete(io);
            while (!closed.get()) {
                buffer.clear();
                int n = io.read(buffer);
                if (n < 0) {
                    break;
                }
                for (JsonStreamParser.Result result : parser.feed(buffer.array(), 0, n)) {
                    if (!respond(result)) {
                        return;
                    }
                }
            }
            // End of input: send what is queued, then close (the writer closes).
            output.finish();
        } catch (ClosedChannelException e) {
            close("closed");
        } catch (IOException e) {
            close("read failed: " + e.getMessage());
        } catch (InterruptedException e) {
            close("interrupted");
        } catch (Throwable e) {
            Fatal.check(e, "QMP session " + id);
            LOG.log(Level.WARNING, "QMP session " + id + " failed", e);
            close("internal error: " + e);
        }
    }

    private boolean respond(JsonStreamParser.Result result) throws InterruptedException {
        String json = switch (result) {
            case JsonStreamParser.Value value -> dispatcher.dispatch(value.value(), this);
            case JsonStreamParser.Failure failure ->
                Json.write(Messages.error(ErrorClass.GENERIC_ERROR, describe(failure), false, null));
        };
        byte[] line = Messages.line(json);
        if (rejected) {
            output.put(line);
            output.finish();
            return false;
        }
        // The reply that ends negotiation opens the queue to events in the same step as it takes
        // (or claims) the reply, so none goes out before it and none emitted after the client
        // has read it is missed.
        boolean opening = negotiated && !output.eventsOpen();
        if (output.claimDirect(opening)) { // nothing queued: no wake-up of the writer
            try {
                drain(io, ByteBuffer.wrap(line));
            } catch (IOException e) {
                close("write failed: " + e.getMessage());
                return false;
            } finally {
                output.directDone();
            }
            return true;
        }
        return opening ? output.putOpeningEvents(line) : output.put(line);
    }

    /**
     * A parse failure's text, naming the limit the message ran into: the nesting bound, or the
     * session's byte budget, which bounds a message's bytes and tokens alike.
     */
    private String describe(JsonStreamParser.Failure failure) {
        String message = failure.message();
        if (message.startsWith("JSON nesting depth")) {
            message += " (at most " + options.sessionLimits().maxNesting() + " open objects and arrays)";
        } else if (message.endsWith("limit exceeded")) {
            message += " (a QMP session buffers at most " + options.endpoint().maxSessionBytes()
                    + " bytes of one message: max-session-bytes)";
        }
        return message;
    }

    private void writeLoop() {
        String reason = "client went away";
        try {
            ByteChannel out = opened.get();
            ByteBuffer buffer = null; // for batches of lines: a session that only answers commands has none
            List<byte[]> batch;
            while ((batch = output.takeBatch(BATCH_BYTES)) != null) {
                if (output.noticeDue()) {
                    server.noticeDrops(this);
                }
                if (batch.size() == 1) {
                    drain(out, ByteBuffer.wrap(batch.getFirst()));
                    continue;
                }
                if (buffer == null) {
                    buffer = ByteBuffer.allocate(BATCH_BYTES);
                }
                for (byte[] line : batch) {
                    if (line.length > buffer.remaining()) { // a line longer than the buffer: on its own
                        drain(out, buffer.flip());
                        buffer.clear();
                        drain(out, ByteBuffer.wrap(line));
                    } else {
                        buffer.put(line);
                    }
                }
                drain(out, buffer.flip());
                buffer.clear();
            }
        } catch (IOException e) {
            reason = "write failed: " + e.getMessage();
        } catch (ExecutionException e) {
            reason = "TLS handshake failed: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            reason = "interrupted";
        } catch (Throwable e) {
            Fatal.check(e, "QMP session " + id);
            reason = "internal error: " + e;
        }
        close(reason);
    }

    private static void drain(ByteChannel out, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }

    void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.log(Level.DEBUG, "QMP session {0} ({1}) ends: {2}", Long.toString(id), remote, reason);
        output.close();
        opened.completeExceptionally(new IOException("session closed"));
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing QMP session {0}: {1}", Long.toString(id), e.toString());
        }
        server.removed(this);
    }

    @Override
    public String toString() {
        return "QmpSession[" + id + " " + remote + (negotiated ? " negotiated" : "") + "]";
    }
}
