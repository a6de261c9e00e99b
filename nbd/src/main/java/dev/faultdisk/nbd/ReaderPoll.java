package dev.faultdisk.nbd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.faultdisk.device.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.channels.SocketChannel;

/**
 * A timed wait for a connection's input (TCP or a Unix socket), to the nanosecond: {@code ppoll} on a duplicate of
 * the socket's descriptor (the JDK's timed reads count milliseconds). The reader waits so for its
 * next request while delayed requests are due soon, and serves them when their time comes
 * ({@link DelayWaiter#runDue}). One per connection: its reader waits and, when done, lets the
 * descriptor go ({@link #close}); {@link #shutdown}, from the thread that closes the connection,
 * ends a wait at once (closing the channel alone would not: the duplicate keeps the socket open).
 */
final class ReaderPoll implements AutoCloseable {
    private static final short POLLIN = 1;
    private static final int SHUT_RDWR = 2;
    private static final MethodHandle PPOLL =
            Libc.function("ppoll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle SHUTDOWN =
            Libc.function("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    /** The duplicate, or -1 once closed; guarded by {@code this} (the number may be reused after). */
    private int fd;
    /** struct pollfd, then struct timespec; freed with the object (the reader may change threads). */
    private final MemorySegment pollfd;

    private final MemorySegment timeout;

    private ReaderPoll(int fd) {
        this.fd = fd;
        Arena arena = Arena.ofAuto();
        this.pollfd = arena.allocate(8, 8);
        this.timeout = arena.allocate(16, 8);
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(JAVA_SHORT, 4, POLLIN);
    }

    /** Whether this system has the calls a poll needs. */
    static boolean available() {
        return PPOLL != null && SHUTDOWN != null;
    }

    /** A poll for {@code channel}'s input, or null where there can be none (TLS is the caller's
     * to rule out; no descriptor found, no ppoll). */
    static ReaderPoll of(SocketChannel channel) {
        if (!available()) {
            return null;
        }
        int fd = SocketDescriptors.duplicate(channel);
        return fd < 0 ? null : new ReaderPoll(fd);
    }

    /**
     * Waits up to {@code nanos} for input (or the end of it, or an error: the read that follows
     * finds out). True if there is something to read, false if the time passed first.
     */
    boolean await(long nanos) {
        long n = Math.max(0, nanos);
        timeout.set(JAVA_LONG, 0, n / 1_000_000_000L);
        timeout.set(JAVA_LONG, 8, n % 1_000_000_000L);
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        try {
            int r = (int) PPOLL.invokeExact(pollfd, 1L, timeout, MemorySegment.NULL);
            // r < 0 (a signal, say): as a timeout; the caller looks again.
            return r > 0;
        } catch (Throwable e) {
            return true; // the read itself then waits as it would without this
        }
    }

    /** Shuts the socket down, so that a wait ends now and the client sees the end at once. */
    synchronized void shutdown() {
        if (fd >= 0) {
            try {
                int ignored = (int) SHUTDOWN.invokeExact(fd, SHUT_RDWR);
            } catch (Throwable e) {
                // the connection is closing anyway; the wait ends at its deadline
            }
        }
    }

    /** Lets the descriptor go (the reader, when done with the connection). */
    @Override
    public synchronized void close() {
        Libc.close(fd);
        fd = -1;
        pollfd.set(JAVA_INT, 0, -1); // a wait after this polls nothing, not a number reused since
    }
}
