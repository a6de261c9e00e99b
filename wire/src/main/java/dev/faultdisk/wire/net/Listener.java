package dev.faultdisk.wire.net;

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
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A listening socket and the thread that accepts on it, shared by the NBD and QMP servers. The
 * accept thread survives whatever it can: a failed accept (out of file descriptors) is logged,
 * rate-limited, and retried after a short pause; an exception from the handler closes that one
 * connection; only an error the JVM cannot recover from ends the process ({@link Fatal}).
 *
 * <p>A Unix socket is created with mode 0600 unless asked otherwise, bound under a private
 * directory and renamed into place, so that it is never reachable with looser permissions. A
 * stale socket file is replaced; any other file at the path is refused, never deleted.
 */
public final class Listener implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    private static final RateLimitedLog RATE_LIMITED = new RateLimitedLog(LOG, 10_000);
    /** Owner read and write only: the control socket is as powerful as the server's user. */
    public static final String DEFAULT_UNIX_MODE = "rw-------";

    /** Takes over an accepted connection; returns quickly (the connection runs on a thread of its own). */
    @FunctionalInterface
    public interface Handler {
        void accepted(SocketChannel channel) throws Exception;
    }

    private final String name;
    private final ServerSocketChannel channel;
    private final SocketAddress address;
    private volatile boolean closed;
    private Thread thread;

    private Listener(String name, ServerSocketChannel channel, SocketAddress address) {
        this.name = name;
        this.channel = channel;
        this.address = address;
    }

    /**
     * Binds {@code address}; port 0 picks a free port.
     *
     * @param unixMode permissions of a Unix socket file as {@code rw-rw----} or octal {@code 0660};
     *                 null for {@link #DEFAULT_UNIX_MODE}
     */
    public static Listener bind(String name, SocketAddress address, String unixMode, int backlog) throws IOException {
        if (address instanceof UnixDomainSocketAddress unix) {
            return bindUnix(
                    name, unix.getPath(), permissions(unixMode == null ? DEFAULT_UNIX_MODE : unixMode), backlog);
        }
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(address, backlog);
            return new Listener(name, server, server.getLocalAddress());
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** Parses {@code rw-------} or an octal mode such as {@code 0660}. */
    public static Set<PosixFilePermission> permissions(String mode) {
        if (mode.matches("0?[0-7]{3}")) {
            String digits = mode.substring(mode.length() - 3);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < digits.length(); i++) {
                int v = digits.charAt(i) - '0';
                text.append((v & 4) != 0 ? 'r' : '-')
                        .append((v & 2) != 0 ? 'w' : '-')
                        .append((v & 1) != 0 ? 'x' : '-');
            }
            mode = text.toString();
        }
        try {
            return PosixFilePermissions.fromString(mode);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mode must be octal like 0660 or like rw-rw----, not '" + mode + "'", e);
        }
    }

    private static Listener bindUnix(String name, Path path, Set<PosixFilePermission> mode, int backlog)
            throws IOException {
        Path absolute = path.toAbsolutePath();
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            if (!isSocket(absolute)) {
                throw new IOException(absolute + " exists and is not a socket; not replacing it");
            }
            if (inUse(absolute)) {
                throw new java.net.BindException(absolute + " is in use by a running server");
            }
            Files.delete(absolute); // a stale socket of a server that is gone
        }
        Path parent = absolute.getParent();
        if (!Files.isDirectory(parent)) {
            throw new NoSuchFileException(
                    String.valueOf(parent),
                    null,
                    "no such directory to make the socket " + absolute.getFileName() + " in");
        }
        Path privateDir;
        try {
            privateDir = Files.createTempDirectory(
                    parent,
                    ".faultdisk-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (AccessDeniedException e) {
            // The socket is made in a private directory beside it, then moved into place.
            throw new AccessDeniedException(
                    parent.toString(), null, "no permission to make the socket " + absolute.getFileName() + " in it");
        }
        Path temporary = privateDir.resolve("s");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(temporary), backlog);
            Files.setPosixFilePermissions(temporary, mode);
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE);
            return new Listener(name, server, UnixDomainSocketAddress.of(path));
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(temporary);
            throw e;
        } finally {
            Files.deleteIfExists(privateDir);
        }
    }

    private static boolean isSocket(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return mode instanceof Integer m && (m & 0170000) == 0140000;
    }

    private static boolean inUse(Path path) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return probe.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    /** The bound address (with the real port when 0 was asked for). */
    public SocketAddress address() {
        return address;
    }

    /** Starts the accept thread. */
    public synchronized Listener start(Handler handler) {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        thread = Thread.ofPlatform().name(name + "-accept").daemon(true).start(() -> acceptLoop(handler));
        return this;
    }

    private void acceptLoop(Handler handler) {
        while (!closed) {
            SocketChannel accepted;
            try {
                accepted = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (Throwable e) {
                if (closed) {
                    return;
                }
                Fatal.check(e, thread.getName());
                RATE_LIMITED.log(Level.WARNING, name + " accept", name + ": accept failed: " + e);
                // EMFILE and its kin fail again at once: pause instead of spinning.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                continue;
            }
            try {
                if (accepted.getRemoteAddress() instanceof InetSocketAddress) {
                    accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
                handler.accepted(accepted);
            } catch (Throwable e) {
                Fatal.check(e, thread.getName());
                RATE_LIMITED.log(Level.WARNING, name + " start", name + ": could not start a connection: " + e);
                try {
                    accepted.close();
                } catch (IOException | RuntimeException ignored) {
                    // already failing
                }
            }
        }
    }

    /** Stops accepting and removes a Unix socket file. Connections already accepted are the owner's. */
    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing {0} listener: {1}", name, e.toString());
        }
        if (address instanceof UnixDomainSocketAddress unix) {
            try {
                Files.deleteIfExists(unix.getPath());
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "removing socket file {0}: {1}", unix.getPath(), e.toString());
            }
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
