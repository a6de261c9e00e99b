package dev.faultdisk.nbd;

import dev.faultdisk.wire.net.ReaderSpin;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which thread reads a connection. A busy connection is read by a platform thread: its read
 * waits in the kernel (one {@code read} when input is there; else, as a timed read, {@code read},
 * {@code poll} until input or the idle time, {@code read}), where a virtual thread's read goes
 * through the poller and the scheduler (measured: 4 KiB random reads cost 6.3 µs of server CPU
 * each on platform threads, 10-14 µs on virtual ones). An idle connection waits on a virtual
 * thread: ten thousand idle connections then cost a few KiB each instead of a platform thread's
 * stack and kernel task.
 *
 * <p>So a connection starts on a virtual thread (the handshake, and waiting for the first
 * request); when a request arrives it moves to a platform thread; when that thread has waited
 * {@code faultdisk.nbd.idleMillis} (default 1000) for the next request, the connection moves back
 * to a virtual thread. Over TCP that wait is a timed read; a Unix socket has none, so there it is
 * a {@link ReaderPoll} of the socket first (else an idle Unix connection that was once busy would
 * keep its platform thread, and its share of the budget below, for its life). A move happens only
 * where the reader waits with nothing buffered, so all the connection's state is in its objects;
 * the old thread hands the connection to the new one (a kept platform thread if one waits, {@link
 * PlatformReaderPool}) and returns. A TLS connection moves too, with certificates or
 * a pre-shared key (both TLS layers keep their state in their objects and survive the timed wait).
 *
 * <p>A connection (TCP or Unix socket) to a server that offers TLS moves to a platform thread
 * once its greeting is sent (on the virtual thread, whose first use of the socket makes the JDK
 * keep it non-blocking), budget allowing: a TLS handshake costs milliseconds of CPU, and virtual threads
 * share the few carrier threads, which the kernel schedules as two among the busy connections'
 * platform readers. With 100 busy TLS connections on two CPUs, handshakes on virtual threads took
 * up to 10 s, and some met the handshake limit and were closed (docs/BENCHMARKS.md, "Handshakes on
 * platform threads"). Such a reader waits for the first request for {@link
 * #AFTER_HANDSHAKE_IDLE_MILLIS} (10 ms) only: a client that starts at once keeps it, and an idle
 * connection is back on a virtual thread at once, its reader kept for the next handshake. Over
 * Unix sockets the same starvation was measured later ({@link Connection#heavyHandshake}).
 *
 * <p>At most {@code faultdisk.nbd.platformReaders} (default 256) platform readers run at once;
 * beyond them busy connections stay on virtual threads. The system property
 * {@code faultdisk.nbd.readers} picks {@code hybrid} (the default),
 * {@code virtual} or {@code platform} (one kind for the connection's whole life), for comparison.
 */
final class ReaderThreads {
    /** What a platform reader's name starts with while it reads a connection (then its id). */
    static final String NAME = "nbd-conn-";
    /** {@link Connection#awaitInput()}: the connection moved to another thread. */
    static final int MOVED = -2;
    /** {@link #awaitInput}: a platform thread waited the idle time and read nothing. */
    static final int IDLE = -3;

    private enum Mode {
        HYBRID,
        VIRTUAL,
        PLATFORM
    }

    private static final Mode MODE =
            Mode.valueOf(System.getProperty("faultdisk.nbd.readers", "hybrid").toUpperCase(java.util.Locale.ROOT));
    /** How long a platform reader waits for the next request before its connection moves to a virtual thread. */
    static final int IDLE_MILLIS = Integer.getInteger("faultdisk.nbd.idleMillis", 1000);
    /**
     * The first wait for a request of a reader moved for the handshake alone: a client that holds
     * its connection idle then gives the platform thread back at once, to be kept for the next
     * handshake, instead of holding one for the idle time (10,000 TLS connections opened one
     * after another over Unix sockets each held one for a second: 66 s to connect them against
     * 36.5 s, docs/BENCHMARKS.md).
     */
    static final int AFTER_HANDSHAKE_IDLE_MILLIS =
            Math.max(1, Integer.getInteger("faultdisk.nbd.afterHandshakeIdleMillis", 10));
    /**
     * Platform readers at most (hybrid mode): a burst of requests on thousands of connections
     * must not start thousands of platform threads; beyond the budget busy connections stay on
     * their virtual threads.
     */
    private static final int MAX_PLATFORM = Integer.getInteger("faultdisk.nbd.platformReaders", 256);

    private static final AtomicInteger PLATFORM = new AtomicInteger();
    private static final PlatformReaderPool THREADS =
            new PlatformReaderPool(Math.max(0, Long.getLong("faultdisk.nbd.readerKeepMillis", 1000)));

    private ReaderThreads() {}

    /** Starts a new connection's reader. */
    static void start(Connection connection) {
        startUnbudgeted(MODE != Mode.PLATFORM, connection);
    }

    /**
     * Whether a new connection that sent its greeting moves to a platform reader for the rest of
     * its handshake, a heavy one ({@link Connection#heavyHandshake}); if so, the reader is started
     * (budget allowing) and the caller returns.
     */
    static boolean moveForHandshake(Connection connection) {
        if (MODE != Mode.HYBRID
                || !Thread.currentThread().isVirtual()
                || !connection.heavyHandshake()
                || !takePlatform()) {
            return false;
        }
        startBudgeted(connection);
        return true;
    }

    /**
     * Whether a virtual reader that got input should move to a platform thread; if so, one of
     * the budget's platform readers is now taken for it ({@link #continueOn} starts it).
     */
    static boolean moveWhenBusy() {
        return MODE == Mode.HYBRID && Thread.currentThread().isVirtual() && takePlatform();
    }

    /** Takes one of the budget's platform readers, if one is free. */
    private static boolean takePlatform() {
        int n;
        do {
            n = PLATFORM.get();
            if (n >= MAX_PLATFORM) {
                return false;
            }
        } while (!PLATFORM.compareAndSet(n, n + 1));
        return true;
    }

    /** Continues {@code connection} on another thread: virtual if it went idle, else platform. */
    static void continueOn(boolean idle, Connection connection) {
        if (idle) {
            startUnbudgeted(true, connection);
        } else {
            startBudgeted(connection);
        }
    }

    /** Reads {@code connection} on a platform reader of the budget, which it gives back when done. */
    private static void startBudgeted(Connection connection) {
        try {
            startPlatform(connection, () -> {
                try {
                    connection.run();
                } finally {
                    PLATFORM.decrementAndGet();
                }
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            PLATFORM.decrementAndGet();
            throw e;
        }
    }

    /** Reads {@code connection} on a new thread of its own, outside the budget. */
    private static void startUnbudgeted(boolean virtual, Connection connection) {
        if (virtual) {
            Thread.ofVirtual().name(name(connection)).start(connection);
        } else {
            startPlatform(connection, connection);
        }
    }

    /** Runs {@code body} on a platform reader for {@code connection}, kept or new. */
    private static void startPlatform(Connection connection, Runnable body) {
        THREADS.run(name(connection), body);
    }

    private static String name(Connection connection) {
        return NAME + connection.id();
    }

    /**
     * Reads what arrives into {@code dst} (a heap buffer). On a platform thread of a hybrid
     * server, waits at most the idle time and returns {@link #IDLE} if nothing came (a TCP
     * socket's timed read; a Unix socket has none, so a {@link ReaderPoll} of it, after the spin,
     * unless the spin saw input); else
     * waits as long as it takes. Returns the count read or -1 at end of stream. A platform reader
     * looks for input first as {@code spin} says; a virtual one never spins (it would hold a
     * carrier thread). {@code tcpStream} is the TCP socket's stream the timed read goes through
     * (the connection's own, made once), or null over a Unix socket.
     */
    static int awaitInput(
            SocketChannel channel,
            ByteBuffer dst,
            InputStream tcpStream,
            ReaderPollHolder poll,
            ReaderSpin spin,
            int idleMillis)
            throws IOException {
        if (Thread.currentThread().isVirtual()) {
            return channel.read(dst);
        }
        if (MODE != Mode.HYBRID) {
            return spin.await(() -> channel.read(dst));
        }
        if (tcpStream == null) {
            // The spin first: input it saw needs no poll (a Unix socket's reader polled for every
            // request before, and the spin never ran: the poll had waited already).
            return spin.await(() -> spin.found() || !idleOnUnixSocket(poll, idleMillis) ? channel.read(dst) : IDLE);
        }
        channel.socket().setSoTimeout(idleMillis);
        try {
            int n = spin.await(() -> tcpStream.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining()));
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        } catch (SocketTimeoutException e) {
            return IDLE;
        }
    }

    /**
     * Waits for input through a TLS layer (the JDK's or Bouncy Castle's) over {@code plain}, a TCP
     * socket, or null for a Unix socket: {@code read} fills the connection's input from it (call
     * with nothing buffered in the layer). On a platform thread of a hybrid server the wait lasts
     * at most the idle time, and {@link #IDLE} comes back if nothing came: over TCP the socket's
     * read timeout is the idle time for this wait alone (a read within a request waits as long as
     * it takes), and the TLS layer keeps a record it read in part, so the next thread goes on with
     * it; over a Unix socket, which has no timed read, a {@link ReaderPoll} of it waits first.
     */
    static int awaitSecured(Socket plain, ReaderPollHolder poll, ReaderSpin.Read read, int idleMillis)
            throws IOException {
        if (MODE != Mode.HYBRID || Thread.currentThread().isVirtual()) {
            return read.read();
        }
        if (plain == null) {
            return idleOnUnixSocket(poll, idleMillis) ? IDLE : read.read();
        }
        plain.setSoTimeout(idleMillis);
        try {
            return read.read();
        } catch (SocketTimeoutException e) {
            return IDLE;
        } finally {
            if (!plain.isClosed()) {
                plain.setSoTimeout(0);
            }
        }
    }

    /**
     * Whether a Unix socket showed no input for the idle time (a platform reader's poll of it);
     * false too where there can be no poll, and the read then waits as long as it takes.
     */
    private static boolean idleOnUnixSocket(ReaderPollHolder poll, int idleMillis) {
        ReaderPoll p = poll.get();
        return p != null && !p.await(TimeUnit.MILLISECONDS.toNanos(idleMillis));
    }
}
