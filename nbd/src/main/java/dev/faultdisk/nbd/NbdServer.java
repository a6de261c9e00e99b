package dev.faultdisk.nbd;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.wire.net.CipherWarmUp;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.Listener;
import dev.faultdisk.wire.net.RateLimitedLog;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An NBD server over TCP or a Unix socket. Each connection gets its own reader thread; a bad
 * client ends only its own connection.
 */
public final class NbdServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());
    /** The least backlog: what it was before the budget set it. */
    private static final int MIN_BACKLOG = 128;

    private static final RateLimitedLog REFUSALS = new RateLimitedLog(LOG, 10_000);

    /**
     * The server's budgets and TLS (docs/SECURITY.md).
     *
     * @param maxConnections   connections open at once; one more is closed before the greeting
     *                         (as nbdkit's limit filter does)
     * @param maxInFlight      requests of one connection running at once off its reader; at the
     *                         limit the reader stops reading until one finishes (as QEMU does)
     * @param payloadBudget    bytes of payload buffers, server-wide; a request that finds it spent
     *                         fails with ENOMEM
     * @param handshakeTimeout time from accept to the end of negotiation (TLS included); then the
     *                         connection is closed (qemu-nbd's default is 10 s)
     * @param tlsMode          whether STARTTLS is refused, offered or required
     * @param tls              the server's X.509 credentials
     * @param psk              pre-shared keys (used instead of {@code tls} when given); one of the
     *                         two is needed unless tlsMode is off
     */
    public record Options(
            int maxConnections,
            int maxInFlight,
            long payloadBudget,
            Duration handshakeTimeout,
            TlsMode tlsMode,
            TlsCredentials tls,
            PskTls psk) {
        public static final int DEFAULT_MAX_CONNECTIONS = 100;
        public static final int DEFAULT_MAX_IN_FLIGHT = 16;
        public static final long DEFAULT_PAYLOAD_BUDGET = 256L << 20;
        public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

        public Options {
            if (maxConnections < 1 || maxInFlight < 1) {
                throw new IllegalArgumentException("NBD budgets must be positive (maxConnections " + maxConnections
                        + ", maxInFlight " + maxInFlight + ")");
            }
            if (payloadBudget < NbdProtocol.MAX_PAYLOAD) {
                throw new IllegalArgumentException(
                        "the payload budget must hold one largest request (" + NbdProtocol.MAX_PAYLOAD + " bytes)");
            }
            if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
                throw new IllegalArgumentException(
                        "the NBD handshake timeout must be positive, got " + handshakeTimeout);
            }
            if (tlsMode != TlsMode.OFF && tls == null && psk == null) {
                throw new IllegalArgumentException("--tls " + tlsMode + " needs certificates or a PSK file");
            }
        }

        public static Options defaults() {
            return new Options(
                    DEFAULT_MAX_CONNECTIONS,
                    DEFAULT_MAX_IN_FLIGHT,
                    DEFAULT_PAYLOAD_BUDGET,
                    DEFAULT_HANDSHAKE_TIMEOUT,
                    TlsMode.OFF,
                    null,
                    null);
        }

        /** The same budgets with {@code requests} in flight per connection. */
        public Options withMaxInFlight(int requests) {
            return new Options(maxConnections, requests, payloadBudget, handshakeTimeout, tlsMode, tls, psk);
        }

        public Options withTls(TlsMode mode, TlsCredentials credentials) {
            return new Options(maxConnections, maxInFlight, payloadBudget, handshakeTimeout, mode, credentials, psk);
        }

        /** TLS with pre-shared keys (nbdkit's {@code --tls-psk}) in {@code mode}. */
        public Options withPsk(TlsMode mode, PskTls keys) {
            return new Options(maxConnections, maxInFlight, payloadBudget, handshakeTimeout, mode, tls, keys);
        }
    }

    private final ExportRegistry exports;
    private final Options options;
    private final PayloadBudget budget;
    private final AtomicInteger open = new AtomicInteger();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("nbd-handshake-timer").daemon(true).factory());
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextId = new AtomicLong(1);
    private final AtomicLong accepted = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder sentFromFile = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder sealedFromFile = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder sentFromMemory = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder throughUring = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder throughPipe = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder intoPages = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder offReader = new java.util.concurrent.atomic.LongAdder();
    private final LargeWriteStreams largeWrites = LargeWriteStreams.fromSettings();
    /** When connections send their replies within a burst of requests. */
    private volatile ReplyFlushes replyFlushes = ReplyFlushes.fromSettings();

    private volatile boolean shuttingDown;
    /** The X.509 handshake by Bouncy Castle's TLS, or null for the JDK's engine ({@link CertTls#of}). */
    private volatile CertTls certTls;

    private Listener listener;
    private SocketAddress boundAddress;

    public NbdServer(ExportRegistry exports) {
        this(exports, Options.defaults());
    }

    public NbdServer(ExportRegistry exports, Options options) {
        this.exports = exports;
        this.options = options;
        this.budget = new PayloadBudget(options.payloadBudget());
    }

    /** Binds and starts accepting. Port 0 picks a free port; see {@link #address()}. */
    public NbdServer start(SocketAddress address) throws IOException {
        return start(address, null);
    }

    /** Like {@link #start(SocketAddress)}, a Unix socket getting {@code unixMode} (e.g. 0660; null for 0600). */
    public synchronized NbdServer start(SocketAddress address, String unixMode) throws IOException {
        if (listener != null) {
            throw new IllegalStateException("already started");
        }
        // The handshake is chosen before the socket is bound: credentials it refuses leave nothing bound.
        if (options.tlsMode() != TlsMode.OFF) {
            CipherWarmUp.start(); // AES-GCM compiled before the first clients' records
            if (options.tls() != null && options.psk() == null) {
                certTls = CertTls.of(options.tls());
                if (certTls == null) {
                    BcX25519Provider.install(); // the JDK's engine finds X25519 by name only
                }
            }
        }
        listener = Listener.bind("nbd", address, unixMode, backlog(options.maxConnections()));
        boundAddress = listener.address();
        if (options.tlsMode() != TlsMode.REQUIRE && !ControlEndpoint.isLoopback(boundAddress)) {
            LOG.log(
                    Level.WARNING,
                    "NBD listens on {0} without required TLS: anyone who reaches it reads and writes the exports",
                    boundAddress);
        }
        listener.start(this::accepted);
        return this;
    }

    /**
     * The listener's backlog: room for the whole connection budget, so a burst of clients
     * connecting at once waits in the kernel's accept queue rather than losing its handshakes (the
     * kernel caps it at {@code net.core.somaxconn}, 4,096 by default). With 128, 200 clients
     * connecting at once overflowed it while the machine was busy: the kernel dropped 58
     * handshakes, whose clients tried again a second or more later (docs/BENCHMARKS.md).
     */
    private static int backlog(int maxConnections) {
        return Math.max(MIN_BACKLOG, maxConnections);
    }

    /**
     * The cipher suites this server serves with certificates beyond the JDK's own (AES-CCM's, by
     * their IANA names), which {@code TlsCredentials.withSuites(names, these)} then accepts.
     */
    public static List<String> certificateSuitesBeyondJdk() {
        return CertTls.suitesBeyondJdk();
    }

    /** The X.509 handshake by Bouncy Castle's TLS, or null where the JDK's engine serves certificates. */
    CertTls certTls() {
        return certTls;
    }

    /** The bound address (with the real port when 0 was asked for). */
    public SocketAddress address() {
        return boundAddress;
    }

    /**
     * The URI a client on this host uses for {@code export}: {@code nbds} when the server requires
     * TLS, and the loopback address when it listens on all of them.
     */
    public String uri(String export) {
        return NbdUri.of(boundAddress, export, options.tlsMode() == TlsMode.REQUIRE);
    }

    /** The TCP port, or -1 for a Unix socket. */
    public int port() {
        return boundAddress instanceof InetSocketAddress inet ? inet.getPort() : -1;
    }

    public ExportRegistry exports() {
        return exports;
    }

    public boolean isShuttingDown() {
        return shuttingDown;
    }

    /** Connections open now. */
    public int connectionCount() {
        return connections.size();
    }

    /** Connections accepted since start. */
    public long acceptedCount() {
        return accepted.get();
    }

    /** Read replies written straight from an export's file (its mapping, or sendfile) since start: no layer needed their bytes. */
    public long readsSentFromFile() {
        return sentFromFile.sum();
    }

    void sentFromFile() {
        sentFromFile.increment();
    }

    /** Read replies written straight from a memory export's pages since start (no read into a buffer first). */
    public long readsSentFromMemory() {
        return sentFromMemory.sum();
    }

    void sentFromMemory() {
        sentFromMemory.increment();
    }

    /** Read replies that TLS sealed straight from an export file's mapping since start (no read into a buffer first). */
    public long readsSealedFromFile() {
        return sealedFromFile.sum();
    }

    void sealedFromFile() {
        sealedFromFile.increment();
    }

    /** Writes whose payload went from the socket into the image file through a pipe (splice) since start. */
    public long writesThroughPipe() {
        return throughPipe.sum();
    }

    void wroteThroughPipe() {
        throughPipe.increment();
    }

    /** Writes whose payload went from the socket straight into a memory export's pages (StagedPages) since start. */
    public long writesIntoPages() {
        return intoPages.sum();
    }

    void wroteIntoPages() {
        intoPages.increment();
    }

    /** Large writes on Unix socket connections run on threads of their own (Transmission) since start. */
    public long writesOffReader() {
        return offReader.sum();
    }

    void wroteOffReader() {
        offReader.increment();
    }

    /** Which connections send large writes just now (one alone writes them off its reader). */
    LargeWriteStreams largeWrites() {
        return largeWrites;
    }

    /** When connections send their replies within a burst ({@link ReplyFlushes}). */
    ReplyFlushes replyFlushes() {
        return replyFlushes;
    }

    /** Fixes when plaintext connections opened from now on send their replies (as the setting does). */
    NbdServer replyFlushes(ReplyFlushes.Way way) {
        this.replyFlushes = replyFlushes.withWay(way, System::nanoTime);
        return this;
    }

    /** Reads done through io_uring ({@code -Dfaultdisk.nbd.fileReads=uring}) since start: no layer needed their bytes. */
    public long readsThroughIoUring() {
        return throughUring.sum();
    }

    void readThroughIoUring() {
        throughUring.increment();
    }

    /** Why this process cannot use io_uring (the kernel refused a ring: disabled, filtered, too old), or null if it can. */
    public static String ioUringUnavailable() {
        return UringReads.unavailable();
    }

    /** The server's budgets and TLS. */
    public Options options() {
        return options;
    }

    PayloadBudget budget() {
        return budget;
    }

    /** Bytes of payload buffers in use now (tests and queries). */
    public long payloadBytesInUse() {
        return budget.used();
    }

    private void accepted(SocketChannel channel) throws IOException {
        accepted.incrementAndGet();
        if (open.incrementAndGet() > options.maxConnections()) {
            open.decrementAndGet();
            REFUSALS.log(
                    Level.WARNING,
                    "connections",
                    "NBD connection from " + channel.getRemoteAddress() + " refused: " + options.maxConnections()
                            + " connections are open (the limit, --max-connections)");
            channel.close(); // before the greeting, as nbdkit's limit filter does
            return;
        }
        Connection connection;
        try {
            connection = new Connection(this, channel, nextId.getAndIncrement());
        } catch (RuntimeException | Error e) {
            open.decrementAndGet();
            throw e;
        }
        connections.add(connection);
        if (shuttingDown) {
            // Accepted while shutdown walked the list: it would never be told to stop.
            removed(connection);
            channel.close();
            return;
        }
        ScheduledFuture<?> deadline = timer.schedule(
                connection::handshakeExpired, options.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        connection.deadline(deadline);
        try {
            ReaderThreads.start(connection);
        } catch (RuntimeException | Error e) {
            deadline.cancel(false);
            removed(connection);
            throw e;
        }
    }

    /**
     * Runs {@code task} on the server's timer after {@code millis}; null if the server is
     * shutting down (its timer no longer runs tasks).
     */
    ScheduledFuture<?> schedule(Runnable task, long millis) {
        try {
            return timer.schedule(task, millis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
    }

    /**
     * Drops every connection serving {@code export} at once, without replies to what is in
     * flight: what a client sees when the disk loses power or the cable is pulled.
     * Returns how many were dropped.
     */
    public int dropConnections(Export export) {
        int dropped = 0;
        for (Connection c : connections) {
            if (c.export() == export) {
                c.closeBecause("dropped by the server (export " + export.name() + " lost power)");
                dropped++;
            }
        }
        return dropped;
    }

    /**
     * Makes a power cut of any export drop that export's connections, as a client sees a disk
     * that loses power. The server's assembly calls it once; test fixtures call the same.
     */
    public NbdServer dropConnectionsOnPowerFail() {
        for (Export export : exports.all()) {
            dropConnectionsOnPowerFail(export);
        }
        return this;
    }

    /** The same for one export, e.g. one added at run time. */
    public void dropConnectionsOnPowerFail(Export export) {
        export.onPowerFail(() -> dropConnections(export));
    }

    /**
     * Closes every connection serving {@code export} cleanly: each stops reading, answers the
     * requests it has read, then closes; after {@code grace} the rest are dropped. Call it once
     * the export is out of the registry (no new client can choose it) and what it holds is
     * failed, or a held request keeps its connection for the whole grace. Returns how many
     * connections there were.
     */
    public int closeConnections(Export export, Duration grace) {
        List<Connection> serving =
                connections.stream().filter(c -> c.export() == export).toList();
        serving.forEach(c -> c.shutdownBecause("export " + export.name() + " was removed"));
        CompletableFuture<?> all =
                CompletableFuture.allOf(serving.stream().map(Connection::closed).toArray(CompletableFuture[]::new));
        try {
            all.get(grace.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.log(Level.DEBUG, "connections of export {0} did not finish in time", export.name());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        serving.forEach(Connection::close);
        return serving.size();
    }

    /** Connections open now to {@code export}. */
    public int connectionCount(Export export) {
        int n = 0;
        for (Connection c : connections) {
            if (c.export() == export) {
                n++;
            }
        }
        return n;
    }

    /** Bytes of pooled buffers the open connections hold now (idle ones hold a few KiB each). */
    long heldBufferBytes() {
        long total = 0;
        for (Connection c : connections) {
            total += c.heldBufferBytes();
        }
        return total;
    }

    /** What each open connection is doing. */
    public List<ConnectionInfo> connections() {
        return connections.stream().map(Connection::info).toList();
    }

    /** The open connections themselves, for tests in this package. */
    List<Connection> openConnections() {
        return List.copyOf(connections);
    }

    void removed(Connection connection) {
        if (connections.remove(connection)) {
            open.decrementAndGet();
        }
    }

    /** Logs a refusal a client can provoke at will, at most once per kind every 10 s. */
    static void refusal(String kind, String message) {
        REFUSALS.log(Level.WARNING, kind, message);
    }

    /**
     * Stops accepting, lets each connection finish the requests it has read, closes them, and
     * waits up to {@code grace} for them to go. Exports stay open: their owner closes them.
     */
    public void shutdown(Duration grace) {
        synchronized (this) {
            if (shuttingDown) {
                return;
            }
            shuttingDown = true;
        }
        if (listener != null) {
            listener.close();
        }
        timer.shutdownNow();
        connections.forEach(c -> c.shutdownBecause("the server is shutting down"));
        long deadline = System.nanoTime() + grace.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connections.forEach(Connection::close);
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }
}
