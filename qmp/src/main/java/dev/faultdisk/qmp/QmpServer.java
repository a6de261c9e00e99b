package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonLimits;
import dev.faultdisk.wire.json.JsonMembers;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.Listener;
import dev.faultdisk.wire.net.RateLimitedLog;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A QMP server: listens on any number of TCP and Unix socket addresses, greets each client,
 * negotiates capabilities and runs the commands of a {@link CommandRegistry}; {@link #emit}
 * broadcasts asynchronous events to every negotiated session. Each session is independent:
 * malformed input, a slow handler or a client that stops reading affects only its own session.
 */
public final class QmpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(QmpServer.class.getName());
    private static final RateLimitedLog REFUSALS = new RateLimitedLog(LOG, 10_000);

    /**
     * What a server sets for each of its sessions.
     *
     * @param clock          the source of event timestamps
     * @param maxQueuedBytes output a session may have waiting for its client; an event that does
     *                       not fit is dropped for that session, which later gets {@value
     *                       #EVENTS_DROPPED} with the count
     * @param limits         bounds on one incoming JSON message
     * @param endpoint       TLS, shared secret and session budgets of the listeners
     * @param stallTimeout   how long a session may drop events while reading nothing before it
     *                       is closed (a client that never reads does not keep its slot)
     * @param eventLinger    while events flow, how long a session's writer waits for more before
     *                       writing them with one call (0: each at once); a reply never waits
     * @param threadSetup    runs first on each session reader and writer that is a platform
     *                       thread: the server gives them the scheduling of its request readers (a
     *                       short slice, so that a command and its reply run soon after they come
     *                       on a busy machine)
     */
    public record Options(
            InstantSource clock,
            int maxQueuedBytes,
            JsonLimits limits,
            ControlEndpoint endpoint,
            Duration stallTimeout,
            Duration eventLinger,
            Runnable threadSetup) {
        /** The default linger: far below what a client waiting for an event notices, long enough to batch a flood. */
        public static final Duration DEFAULT_EVENT_LINGER = Duration.ofNanos(500_000);

        public static Options defaults() {
            return new Options(
                    InstantSource.system(),
                    1 << 20,
                    JsonLimits.DEFAULT,
                    ControlEndpoint.defaults(),
                    Duration.ofSeconds(10),
                    DEFAULT_EVENT_LINGER,
                    () -> {});
        }

        public Options {
            if (clock == null
                    || limits == null
                    || endpoint == null
                    || maxQueuedBytes < 1
                    || stallTimeout == null
                    || stallTimeout.isNegative()
                    || eventLinger == null
                    || eventLinger.isNegative()
                    || threadSetup == null) {
                throw new IllegalArgumentException("bad QMP server options");
            }
        }

        public Options withClock(InstantSource clock) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        public Options withMaxQueuedBytes(int maxQueuedBytes) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        public Options withLimits(JsonLimits limits) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        public Options withEndpoint(ControlEndpoint endpoint) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        public Options withStallTimeout(Duration stallTimeout) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        public Options withEventLinger(Duration eventLinger) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        public Options withThreadSetup(Runnable threadSetup) {
            return new Options(clock, maxQueuedBytes, limits, endpoint, stallTimeout, eventLinger, threadSetup);
        }

        /**
         * The bounds one session's parser works under: the message limits, tightened so that an
         * unfinished message (text and parsed tokens) stays within the session's byte budget.
         */
        JsonLimits sessionLimits() {
            int bytes = endpoint.maxSessionBytes();
            return new JsonLimits(
                    Math.min(limits.maxMessageBytes(), bytes),
                    Math.max(1, Math.min(limits.maxTokens(), bytes / TOKEN_COST)),
                    limits.maxNesting());
        }
    }

    /** The event a session gets, and only that session, after events were dropped for it. */
    public static final String EVENTS_DROPPED = "EVENTS_DROPPED";

    /** The event builder's first size: room for a FAULT_INJECTED. */
    private static final int KEPT_TEXT = 1024;
    /** A builder grown past this by a large event is replaced. */
    private static final int MAX_KEPT_TEXT = 64 * 1024;

    /**
     * Sessions whose writer is a platform thread, at most; later ones get a virtual thread. A
     * flood of events costs a virtual writer about twice the CPU: its linger's timed wait is ended
     * by the pool's delay scheduler, which then wakes a carrier (docs/BENCHMARKS.md).
     */
    static final int PLATFORM_WRITERS = 64;

    /**
     * Sessions whose reader is a platform thread, at most; later ones get a virtual thread. A
     * command on a platform reader wakes one thread, not the JDK's poller and then a carrier, and
     * the reader takes the scheduling {@link Options#threadSetup} gives (docs/BENCHMARKS.md, "A
     * command's reply written by its reader").
     */
    static final int PLATFORM_READERS = 64;

    /** Heap bytes a buffered token costs (object, text array, list slot). */
    static final int TOKEN_COST = 64;

    private final CommandRegistry registry;
    private final Options options;
    private final Dispatcher dispatcher;
    private final byte[] greeting;
    private final Set<QmpSession> sessions = ConcurrentHashMap.newKeySet();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger open = new AtomicInteger();
    private final Semaphore platformWriters = new Semaphore(PLATFORM_WRITERS);
    private final Semaphore platformReaders = new Semaphore(PLATFORM_READERS);
    private final AtomicLong nextId = new AtomicLong(1);
    private final AtomicLong eventsDropped = new AtomicLong();
    private final List<EventListener> eventListeners = new CopyOnWriteArrayList<>();
    /** Guarded by emitLock. */
    private long emitted;
    /**
     * Where each event's text is built; guarded by emitLock. One builder for all: a flood of
     * events (one per delayed read) then costs no growing builder and no intermediate string.
     */
    private StringBuilder emitText = new StringBuilder(KEPT_TEXT);

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
     * Starts listening on one more address (TCP, or a Unix socket created 0600 whose stale file
     * is replaced). Port 0 picks a free port.
     *
     * @return the bound address, with the real port
     */
    public SocketAddress listen(SocketAddress address) throws IOException {
        return listen(address, null);
    }

    /** Like {@link #listen(SocketAddress)}, a Unix socket getting {@code unixMode} (e.g. 0660; null for 0600). */
    public synchronized SocketAddress listen(SocketAddress address, String unixMode) throws IOException {
        if (closed) {
            throw new IllegalStateException("QMP server is closed");
        }
        Listener listener = Listener.bind("qmp", address, unixMode, 64);
        SocketAddress bound = listener.address();
        if (options.endpoint().exposed(bound)) {
            LOG.log(
                    Level.WARNING,
                    "QMP listens on {0} without TLS: anyone who reaches it controls the server;"
                            + " use a loopback address, a Unix socket or TLS",
                    bound);
        }
        listeners.add(listener);
        listener.start(channel -> accepted(channel, bound));
        return bound;
    }

    /** The addresses listened on, in the order {@link #listen} was called. */
    public List<SocketAddress> addresses() {
        return listeners.stream().map(Listener::address).toList();
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
     * Never blocks on a client: a session whose output queue is full does not get it, and learns
     * how many it missed from {@value #EVENTS_DROPPED} once it has room.
     *
     * @param data the event's members, or null for an event without data
     * @throws dev.faultdisk.wire.json.JsonException if {@code data} holds a value with no JSON form
     */
    public void emit(String event, Map<String, ?> data) {
        emitData(event, data);
    }

    /**
     * As {@link #emit(String, Map)}, with data written member by member: for events emitted often
     * (one per delayed read), which then cost no map.
     */
    public void emitMembers(String event, JsonMembers data) {
        emitData(event, data);
    }

    private void emitData(String event, Object data) {
        synchronized (emitLock) { // keeps timestamps in order on every session
            emitted++;
            byte[] line = eventLine(event, data, options.clock().instant());
            for (QmpSession session : sessions) {
                session.deliver(line);
            }
            if (!eventListeners.isEmpty()) {
                String json = emitText.toString();
                for (EventListener listener : eventListeners) {
                    listener.event(emitted, event, json);
                }
            }
        }
    }

    /**
     * Queues {@value #EVENTS_DROPPED} for one session if it has room: under the emit lock, so its
     * timestamp keeps the session's events in order.
     */
    void noticeDrops(QmpSession session) {
        synchronized (emitLock) {
            Instant at = options.clock().instant();
            session.offerDropNotice(count -> eventLine(EVENTS_DROPPED, Map.of("count", count), at));
        }
    }

    /**
     * An event's line on the wire, built in {@link #emitText}, which then holds its text; under the
     * emit lock.
     */
    private byte[] eventLine(String event, Object data, Instant at) {
        if (emitText.capacity() > MAX_KEPT_TEXT) {
            emitText = new StringBuilder(KEPT_TEXT); // one huge event does not keep its builder
        }
        emitText.setLength(0);
        Json.write(emitText, Messages.event(event, data, at));
        return Messages.line(emitText);
    }

    /** Events dropped for sessions that fell behind, over every session there has been. */
    public long eventsDropped() {
        return eventsDropped.get();
    }

    void droppedEvent() {
        eventsDropped.incrementAndGet();
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

    private void accepted(SocketChannel channel, SocketAddress local) throws IOException {
        String remote = String.valueOf(channel.getRemoteAddress());
        if (remote.isEmpty()) {
            remote = "unix:" + local; // Unix peers are unnamed
        }
        long id = nextId.getAndIncrement();
        if (open.incrementAndGet() > options.endpoint().maxSessions()) {
            open.decrementAndGet();
            REFUSALS.log(
                    Level.WARNING,
                    "sessions",
                    "QMP session from " + remote + " refused: "
                            + options.endpoint().maxSessions() + " sessions are open (the limit)");
            Thread.ofVirtual().name("qmp-" + id + "-refuse").start(() -> refuse(channel));
            return;
        }
        QmpSession session = new QmpSession(this, channel, id, remote, options, dispatcher);
        sessions.add(session);
        if (closed) {
            session.close();
            return;
        }
        LOG.log(Level.DEBUG, "QMP session {0} from {1}", Long.toString(session.id()), remote);
        session.start(greeting);
    }

    /** Tells a client over the session limit why, then hangs up. */
    private void refuse(SocketChannel channel) {
        try (channel) {
            var io = options.endpoint().open(channel);
            String desc = "too many QMP sessions: " + options.endpoint().maxSessions()
                    + " are open, the limit (max-sessions)";
            io.write(java.nio.ByteBuffer.wrap(
                    Messages.line(Json.write(Messages.error(ErrorClass.GENERIC_ERROR, desc, false, null)))));
            io.close();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, "refusing a QMP session: {0}", e.toString());
        }
    }

    /**
     * Starts a session's writer: on a platform thread, set up by {@link Options#threadSetup},
     * while fewer than {@value #PLATFORM_WRITERS} have one, else on a virtual thread.
     */
    void startWriter(String name, Runnable writer) {
        start(name, writer, platformWriters);
    }

    /**
     * Starts a session's reader: on a platform thread, set up by {@link Options#threadSetup},
     * while fewer than {@value #PLATFORM_READERS} have one, else on a virtual thread.
     */
    void startReader(String name, Runnable reader) {
        start(name, reader, platformReaders);
    }

    private void start(String name, Runnable task, Semaphore platformThreads) {
        if (!platformThreads.tryAcquire()) {
            Thread.ofVirtual().name(name).start(task);
            return;
        }
        Runnable setUp = options.threadSetup();
        Runnable released = () -> {
            try {
                try {
                    setUp.run();
                } catch (RuntimeException e) { // the session runs on without it
                    LOG.log(Level.DEBUG, "setting up " + name + ": " + e);
                }
                task.run();
            } finally {
                platformThreads.release();
            }
        };
        boolean started = false;
        try {
            Thread.ofPlatform().daemon().name(name).start(released);
            started = true;
        } finally {
            if (!started) { // no native thread to be had
                platformThreads.release();
            }
        }
    }

    /** Session writers on platform threads now. */
    int platformWritersInUse() {
        return PLATFORM_WRITERS - platformWriters.availablePermits();
    }

    /** Session readers on platform threads now. */
    int platformReadersInUse() {
        return PLATFORM_READERS - platformReaders.availablePermits();
    }

    void removed(QmpSession session) {
        if (sessions.remove(session)) {
            open.decrementAndGet();
        }
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
        listeners.forEach(Listener::close);
        for (QmpSession session : sessions) {
            session.close();
        }
    }
}
