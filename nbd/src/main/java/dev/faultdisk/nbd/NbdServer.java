package dev.faultdisk.nbd;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
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
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An NBD server over TCP or a Unix socket. Each connection gets its own reader thread; a bad
 * client ends only its own connection.
 */
public final class NbdServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());

    private final ExportRegistry exports;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextId = new AtomicLong(1);
    private final AtomicLong accepted = new AtomicLong();
    private volatile boolean shuttingDown;
    private ServerSocketChannel listener;
    private SocketAddress boundAddress;
    private Thread acceptor;

    public NbdServer(ExportRegistry exports) {
        this.exports = exports;
    }

    /** Binds and starts accepting. Port 0 picks a free port; see {@link #address()}. */
    public synchronized NbdServer start(SocketAddress address) throws IOException {
        if (listener != null) {
            throw new IllegalStateException("already started");
        }
        if (address instanceof UnixDomainSocketAddress unix) {
            Files.deleteIfExists(unix.getPath());
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        }
        listener.bind(address, 128);
        boundAddress = listener.getLocalAddress();
        acceptor = Thread.ofPlatform().name("nbd-accept").daemon(true).start(this::acceptLoop);
        return this;
    }

    /** The bound address (with the real port when 0 was asked for). */
    public SocketAddress address() {
        return boundAddress;
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

    private void acceptLoop() {
        while (!shuttingDown) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (shuttingDown) {
                    return;
                }
                LOG.log(Level.WARNING, "accept failed: {0}", e.toString());
                continue;
            }
            accepted.incrementAndGet();
            try {
                if (channel.getRemoteAddress() instanceof InetSocketAddress) {
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
                Connection connection = new Connection(this, channel, nextId.getAndIncrement());
                connections.add(connection);
                if (shuttingDown) {
                    // Accepted while shutdown walked the list: it would never be told to stop.
                    connections.remove(connection);
                    channel.close();
                    continue;
                }
                Thread.ofPlatform()
                        .name("nbd-conn-" + connection.id())
                        .daemon(true)
                        .start(connection);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "could not start a connection: {0}", e.toString());
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
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

    /** What each open connection is doing. */
    public List<ConnectionInfo> connections() {
        return connections.stream().map(Connection::info).toList();
    }

    void removed(Connection connection) {
        connections.remove(connection);
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
        try {
            if (listener != null) {
                listener.close();
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing listener: {0}", e.toString());
        }
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
        if (boundAddress instanceof UnixDomainSocketAddress unix) {
            try {
                Files.deleteIfExists(unix.getPath());
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "removing socket file: {0}", e.toString());
            }
        }
        if (acceptor != null) {
            try {
                acceptor.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }
}
