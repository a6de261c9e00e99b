package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonLimits;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A QMP server: listens on any number of TCP and Unix socket addresses, greets each client,
 * negotiates capabilities and runs the commands of a {@link CommandRegistry}; {@link #emit}
 * broadcasts asynchronous events to every negotiated session. Each session is independent:
 * malformed input, a slow handler or a client that stops reading affects only its own session.
 */
public final class QmpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(QmpServer.class.getName());

    /**
     * What a server sets for each of its sessions.
     *
     * @param clock          the source of event timestamps
     * @param maxQueuedBytes output a session may have waiting for its client; an event that does
     *                       not fit ends the session
     * @param limits         bounds on one incoming JSON message
     */
    public record Options(InstantSource clock, int maxQueuedBytes, JsonLimits limits) {
        public static Options defaults() {
            return new Options(InstantSource.system(), 1 << 20, JsonLimits.DEFAULT);
        }

        public Options {
            if (clock == null || limits == null || maxQueuedBytes < 1) {
                throw new IllegalArgumentException("bad QMP server options");
            }
        }

        public Options withClock(InstantSource clock) {
            return new Options(clock, maxQueuedBytes, limits);
        }

        public Options withMaxQueuedBytes(int maxQueuedBytes) {
            return new Options(clock, maxQueuedBytes, limits);
        }

        public Options withLimits(JsonLimits limits) {
            return new Options(clock, maxQueuedBytes, limits);
        }
    }

    private final CommandRegistry registry;
    private final Options options;
    private final Dispatcher dispatcher;
    private final byte[] greeting;
    private final Set<QmpSession> sessions = ConcurrentHashMap.newKeySet();
    private final List<ServerSocketChannel> listeners = new CopyOnWriteArrayList<>();
    private final List<SocketAddress> addresses = new CopyOnWriteArrayList<>();
    private final AtomicLong nextId = new AtomicLong(1);
    private final List<EventListener> eventListeners = new CopyOnWriteArrayList<>();
    /** Guarded by emitLock. */
    private long emitted;

    private final Object emitLock = new Object();
    private volatile boolean closed;

    public QmpServer(CommandRegistry registry) {
        this(registry, Options.defaults());
    }

    public QmpServer(CommandRegistry registry, Options options) {
        this.registry = registry;
        this.options = options;
        this.dispatcher = new Dispatcher(registry);
        this.greeting = Messages.line(Json.write(Messages.greeting(registry.version())));
    }

    /**
     * Starts listening on one more address (TCP, or a Unix socket whose stale file is replaced).
     * Port 0 picks a free port.
     *
     * @return the bound address, with the real port
     */
    public synchronized SocketAddress listen(SocketAddress address) throws IOException {
        if (closed) {
            throw new IllegalStateException("QMP server is closed");
        }
        ServerSocketChannel listener;
        if (address instanceof UnixDomainSocketAddress unix) {
            Files.deleteIfExists(unix.getPath());
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        }
        try {
            listener.bind(address, 64);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        SocketAddress bound = listener.getLocalAddress();
        listeners.add(listener);
        addresses.add(bound);
        Thread.ofPlatform().name("qmp-accept-" + bound).daemon(true).start(() -> acceptLoop(listener));
        return bound;
    }

    /** The addresses listened on, in the order {@link #listen} was called. */
    public List<SocketAddress> addresses() {
        return List.copyOf(addresses);
    }

    public CommandRegistry registry() {
        return registry;
    }

    /** Sessions open now (negotiated or not). */
    public List<QmpSession> sessions() {
        return new ArrayList<>(sessions);
    }

    public int sessionCount() {
        return sessions.size();
    }

    /** Hears every event {@link #emit} sends, besides the sessions (the HTTP API's event stream). */
    @FunctionalInterface
    public interface EventListener {
        /**
         * Called under the emit lock, in emit order: must not block.
         *
         * @param number the event's number (from 1, in emit order)
         * @param event  the event's name
         * @param json   the whole event as QMP sends it, one line without its line end
         */
        void event(long number, String event, String json);
    }

    public void addEventListener(EventListener listener) {
        eventListeners.add(listener);
    }

    public void removeEventListener(EventListener listener) {
        eventListeners.remove(listener);
    }

    /** True if an event emitted now reaches anyone: a session or a listener (else it need not be built). */
    public boolean hasAudience() {
        return !sessions.isEmpty() || !eventListeners.isEmpty();
    }

    /**
     * Sends {@code {"timestamp": ..., "event": NAME, "data": DATA}} to every negotiated session.
     * Never blocks on a client: a session whose output queue is full is closed instead.
     *
     * @param data the event's members, or null for an event without data
     * @throws dev.faultdisk.wire.json.JsonException if {@code data} holds a value with no JSON form
     */
    public void emit(String event, Map<String, ?> data) {
        synchronized (emitLock) { // keeps timestamps in order on every session
            emitted++;
            String json = Json.write(Messages.event(event, data, options.clock().instant()));
            byte[] line = Messages.line(json);
            for (QmpSession session : sessions) {
                session.deliver(line);
            }
            for (EventListener listener : eventListeners) {
                listener.event(emitted, event, json);
            }
        }
    }

    /**
     * How many events were emitted so far: unchanged since a client's round trip means no event
     * can still be on its way to that client.
     */
    public long eventsEmitted() {
        synchronized (emitLock) {
            return emitted;
        }
    }

    private void acceptLoop(ServerSocketChannel listener) {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                LOG.log(Level.WARNING, "QMP accept failed: {0}", e.toString());
                continue;
            }
            try {
                String remote = String.valueOf(channel.getRemoteAddress());
                if (remote.isEmpty()) {
                    remote = "unix:" + listener.getLocalAddress(); // Unix peers are unnamed
                }
                if (channel.getRemoteAddress() instanceof InetSocketAddress) {
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
                QmpSession session =
                        new QmpSession(this, channel, nextId.getAndIncrement(), remote, options, dispatcher);
                sessions.add(session);
                if (closed) {
                    session.close();
                    return;
                }
                LOG.log(Level.DEBUG, "QMP session {0} from {1}", session.id(), remote);
                session.start(greeting);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "could not start a QMP session: {0}", e.toString());
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    void removed(QmpSession session) {
        sessions.remove(session);
    }

    /** Stops listening, closes every session and removes Unix socket files. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (ServerSocketChannel listener : listeners) {
            try {
                listener.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing QMP listener: {0}", e.toString());
            }
        }
        for (QmpSession session : sessions) {
            session.close();
        }
        for (SocketAddress address : addresses) {
            if (address instanceof UnixDomainSocketAddress unix) {
                try {
                    Files.deleteIfExists(unix.getPath());
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, "removing QMP socket file: {0}", e.toString());
                }
            }
        }
    }
}
