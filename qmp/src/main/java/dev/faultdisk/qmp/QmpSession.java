package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonStreamParser;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client connection: its own parser, negotiation state and bounded output queue, a reader
 * thread that parses and runs commands one at a time, and a writer thread. Bad input or a stalled
 * client affects only this session.
 */
public final class QmpSession {
    private static final System.Logger LOG = System.getLogger(QmpSession.class.getName());

    private final QmpServer server;
    private final SocketChannel channel;
    private final long id;
    private final String remote;
    private final OutputQueue output;
    private final JsonStreamParser parser;
    private final Dispatcher dispatcher;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean negotiated;

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
        this.output = new OutputQueue(options.maxQueuedBytes());
        this.parser = new JsonStreamParser(options.limits());
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

    /** Ends the session at once (queued output is dropped). */
    public void close() {
        close("closed by the server");
    }

    void negotiate() {
        negotiated = true;
    }

    void start(byte[] greeting) {
        output.offer(greeting);
        Thread.ofVirtual().name("qmp-" + id + "-out").start(this::writeLoop);
        Thread.ofVirtual().name("qmp-" + id + "-in").start(this::readLoop);
    }

    /** Queues an event line if the session takes events; a session with no room is dropped. */
    void deliver(byte[] line) {
        if (closed.get()) {
            return;
        }
        if (!output.offerEvent(line) && output.isFull()) {
            LOG.log(
                    Level.WARNING,
                    "QMP session {0} ({1}) dropped: it does not read and its output queue is full",
                    id,
                    remote);
            close("output queue full");
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        try {
            while (!closed.get()) {
                buffer.clear();
                int n = channel.read(buffer);
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
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "QMP session " + id + " failed", e);
            close("internal error: " + e);
        }
    }

    private boolean respond(JsonStreamParser.Result result) throws InterruptedException {
        String json = switch (result) {
            case JsonStreamParser.Value value -> dispatcher.dispatch(value.value(), this);
            case JsonStreamParser.Failure failure ->
                Json.write(Messages.error(ErrorClass.GENERIC_ERROR, failure.message(), false, null));
        };
        if (negotiated && !output.eventsOpen()) {
            // The reply that ends negotiation: the queue opens to events in the same step as it
            // takes the reply, so none goes out before it and none emitted after the client has
            // read it is missed.
            return output.putOpeningEvents(Messages.line(json));
        }
        return output.put(Messages.line(json));
    }

    private void writeLoop() {
        String reason = "client went away";
        try {
            byte[] line;
            while ((line = output.take()) != null) {
                ByteBuffer buffer = ByteBuffer.wrap(line);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
        } catch (IOException e) {
            reason = "write failed: " + e.getMessage();
        } catch (InterruptedException e) {
            reason = "interrupted";
        }
        close(reason);
    }

    void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.log(Level.DEBUG, "QMP session {0} ({1}) ends: {2}", id, remote, reason);
        output.close();
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing QMP session {0}: {1}", id, e.toString());
        }
        server.removed(this);
    }

    @Override
    public String toString() {
        return "QmpSession[" + id + " " + remote + (negotiated ? " negotiated" : "") + "]";
    }
}
