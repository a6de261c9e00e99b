package dev.faultdisk.nbd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The Linux calls {@link PayloadPipe} needs and the JDK lacks (pipe2, F_SETPIPE_SZ, splice, SO_RCVLOWAT,
 * poll), through the foreign function API. One instance per user thread at a time: it keeps the
 * small native arguments (the pipe's pair, a poll entry, an offset, errno) in its own memory.
 */
final class LinuxPipes {
    private static final int F_GETFL = 3;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int SPLICE_F_MOVE = 1;
    private static final int SPLICE_F_NONBLOCK = 2;
    private static final short POLLIN = 1;
    private static final short POLLOUT = 4;

    private static final MethodHandle PIPE2 =
            Libc.function("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Libc.ERRNO);
    private static final MethodHandle SPLICE = Libc.function(
            "splice",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
            Libc.ERRNO);
    private static final MethodHandle POLL =
            Libc.function("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Libc.ERRNO);
    private static final MethodHandle READ =
            Libc.function("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), Libc.ERRNO);

    private static final MethodHandle SETSOCKOPT = Libc.function(
            "setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), Libc.ERRNO);
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVLOWAT = 18;

    private final MemorySegment errno;
    private final MemorySegment pair;
    private final MemorySegment pollEntry;
    private final MemorySegment offset;

    LinuxPipes() {
        Arena arena = Arena.ofAuto(); // shared: the connection's reader may move between threads
        errno = arena.allocate(Libc.CALL_STATE);
        pair = arena.allocate(JAVA_INT, 2);
        pollEntry = arena.allocate(8, 8); // struct pollfd: int fd, short events, short revents
        offset = arena.allocate(JAVA_LONG);
    }

    static boolean available() {
        return PIPE2 != null && SPLICE != null && POLL != null && READ != null;
    }

    /** Whether {@code fd} is in non-blocking mode (a socket a splice must not wait on). */
    boolean nonBlocking(int fd) throws IOException {
        int flags = Libc.fcntl(fd, F_GETFL, 0);
        if (flags < 0) {
            throw new IOException("fcntl: errno " + -flags);
        }
        return (flags & Libc.O_NONBLOCK) != 0;
    }

    /** A new pipe as {read end, write end}, close-on-exec and non-blocking. */
    int[] pipe() throws IOException {
        int r;
        try {
            r = (int) PIPE2.invokeExact(errno, pair, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        } catch (Throwable e) {
            throw new IOException("pipe2", e);
        }
        if (r < 0) {
            throw new IOException("pipe2: errno " + errno());
        }
        int[] fds = {pair.getAtIndex(JAVA_INT, 0), pair.getAtIndex(JAVA_INT, 1)};
        return fds;
    }

    /** Sets a pipe's capacity; returns the capacity it got, or -1 if refused (over the system's limits). */
    int resize(int pipeFd, int bytes) {
        int r = Libc.fcntl(pipeFd, F_SETPIPE_SZ, bytes);
        return r < 0 ? -1 : r;
    }

    /**
     * Moves up to {@code length} bytes from {@code in} to {@code out} without waiting on a pipe;
     * at {@code outOffset} of {@code out} if not negative (a file), else at its current place.
     * Returns the count moved, 0 at the end of {@code in}'s stream, or -EAGAIN when nothing can move now.
     */
    long splice(int in, int out, long outOffset, long length) throws IOException {
        MemorySegment off = MemorySegment.NULL;
        if (outOffset >= 0) {
            offset.set(JAVA_LONG, 0, outOffset);
            off = offset;
        }
        while (true) {
            long n;
            try {
                n = (long) SPLICE.invokeExact(
                        errno, in, MemorySegment.NULL, out, off, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            } catch (Throwable e) {
                throw new IOException("splice", e);
            }
            if (n >= 0) {
                return n;
            }
            int e = errno();
            if (e == Libc.EAGAIN) {
                return -Libc.EAGAIN;
            }
            if (e != Libc.EINTR) {
                throw new IOException("splice: errno " + e);
            }
        }
    }

    /** Waits at most {@code millis} for {@code fd} to be readable (or writable); true if it is. */
    boolean await(int fd, boolean write, int millis) throws IOException {
        pollEntry.set(JAVA_INT, 0, fd);
        pollEntry.set(JAVA_SHORT, 4, write ? POLLOUT : POLLIN);
        pollEntry.set(JAVA_SHORT, 6, (short) 0);
        int r;
        try {
            r = (int) POLL.invokeExact(errno, pollEntry, 1L, millis);
        } catch (Throwable e) {
            throw new IOException("poll", e);
        }
        if (r < 0 && errno() != Libc.EINTR) {
            throw new IOException("poll: errno " + errno());
        }
        return r > 0; // readable, or hung up or failed: the next call says which
    }

    /** Reads up to {@code length} bytes of {@code fd} into {@code dst} (native memory); the count, 0 at the end. */
    long read(int fd, MemorySegment dst, long length) throws IOException {
        while (true) {
            long n;
            try {
                n = (long) READ.invokeExact(errno, fd, dst, length);
            } catch (Throwable e) {
                throw new IOException("read", e);
            }
            if (n >= 0) {
                return n;
            }
            if (errno() != Libc.EINTR) {
                throw new IOException("read: errno " + errno());
            }
        }
    }

    /** Sets socket {@code fd}'s receive low-water mark; false if refused. */
    boolean lowWater(int fd, int bytes) {
        if (SETSOCKOPT == null) {
            return false;
        }
        offset.set(JAVA_INT, 0, bytes);
        try {
            return (int) SETSOCKOPT.invokeExact(errno, fd, SOL_SOCKET, SO_RCVLOWAT, offset, 4) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    private int errno() {
        return Libc.errno(errno);
    }
}
