package dev.faultdisk.nbd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The descriptor behind a {@link SocketChannel}, duplicated, so that the number stays this
 * caller's until it closes it (the channel's own may be closed and reused meanwhile). The JDK
 * tells the number only to code its launcher lets into {@code sun.nio.ch} ({@code --add-exports
 * java.base/sun.nio.ch=ALL-UNNAMED}: scripts/jvm.options and the jar's manifest); without that
 * (faultdisk embedded in a JVM started otherwise) it is found among the process's descriptor
 * numbers (newest first, {@link #descriptorTableSize}), one call or two on each. That search
 * costs a call for every number above the channel's: with 10,000 connections open, milliseconds
 * a lookup (10,000 TLS connections over Unix sockets took 54 s to open with it against 36 s,
 * docs/BENCHMARKS.md).
 *
 * <p>The search, TCP: the descriptor whose local and peer addresses (getsockname, getpeername) equal the
 * channel's; a TCP connection is the only one with its address pair, so the match is exact. A Unix
 * socket's addresses are not its own (every connection accepted on a listener shows its path, and
 * clients rarely bind one), so the channel is marked instead: its receive buffer size, set through
 * the channel, is read on each descriptor, with two different marks in turn, and the one Unix
 * socket that shows both is the channel's. The size is set back at once. (SO_RCVBUF has
 * no effect on a Unix socket, unix(7): the mark changes nothing the client sees.) Each lookup
 * marks with values of its own, so lookups on many connections at once need no lock.
 */
final class SocketDescriptors {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int AF_UNIX = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVBUF = 8;
    /**
     * Receive buffer sizes asked for as marks, two per lookup, each lookup its own pair, so that
     * lookups run at once without a lock: from {@code [MARKS_FROM, 2 * MARKS_FROM)}, where no mark
     * is twice another (the kernel doubles what is asked; a descriptor may show either).
     */
    private static final int MARKS_FROM = 20_000;

    private static final int MARK_PAIRS = MARKS_FROM / 2;
    private static final AtomicInteger LOOKUPS = new AtomicInteger();
    private static final FunctionDescriptor NAME = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle GETSOCKNAME = Libc.function("getsockname", NAME);
    private static final MethodHandle GETPEERNAME = Libc.function("getpeername", NAME);
    private static final MethodHandle GETSOCKOPT = Libc.function(
            "getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    /** The JDK's {@code SelChImpl.getFDVal} as {@code (SocketChannel) int}, or null where it is not exported to us. */
    private static final MethodHandle JDK_NUMBER = jdkNumber();

    private SocketDescriptors() {}

    private static MethodHandle jdkNumber() {
        try {
            Class<?> channels = Class.forName("sun.nio.ch.SelChImpl");
            return MethodHandles.lookup()
                    .findVirtual(channels, "getFDVal", MethodType.methodType(int.class))
                    .asType(MethodType.methodType(int.class, SocketChannel.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // not exported (IllegalAccessException), or another JDK: the search
        }
    }

    /** Whether the JDK tells a channel's descriptor number here, so that no search is needed. */
    static boolean numberFromJdk() {
        return JDK_NUMBER != null;
    }

    /**
     * A duplicate of a TCP or Unix channel's descriptor (the caller closes it), or -1 if not found.
     */
    static int duplicate(SocketChannel channel) {
        int known = numberOf(channel);
        if (known >= 0) {
            return duplicateOf(known, channel);
        }
        try {
            if (channel.getLocalAddress() instanceof UnixDomainSocketAddress) {
                return searchUnix(channel);
            }
        } catch (IOException e) {
            return -1;
        }
        return searchTcp(channel);
    }

    /** A duplicate of a TCP channel's descriptor (the caller closes it), or -1 if not found or not TCP. */
    static int duplicateTcp(SocketChannel channel) {
        try {
            if (!(channel.getLocalAddress() instanceof InetSocketAddress)) {
                return -1;
            }
        } catch (IOException e) {
            return -1;
        }
        return duplicate(channel);
    }

    /** The channel's descriptor number as the JDK tells it, or -1 where it does not. */
    private static int numberOf(SocketChannel channel) {
        if (JDK_NUMBER == null) {
            return -1;
        }
        try {
            return (int) JDK_NUMBER.invokeExact(channel);
        } catch (Throwable e) {
            return -1; // a channel of another provider (ClassCastException): the search
        }
    }

    /** A duplicate of a TCP channel's descriptor found by the search, or -1 (package-visible: tests). */
    static int searchTcp(SocketChannel channel) {
        if (GETSOCKNAME == null || GETPEERNAME == null) {
            return -1;
        }
        InetSocketAddress local;
        InetSocketAddress remote;
        try {
            if (!(channel.getLocalAddress() instanceof InetSocketAddress l)
                    || !(channel.getRemoteAddress() instanceof InetSocketAddress r)) {
                return -1;
            }
            local = l;
            remote = r;
        } catch (IOException e) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(128, 8);
            MemorySegment len = arena.allocate(JAVA_INT);
            for (int fd = descriptorTableSize() - 1; fd >= 0; fd--) {
                // The peer first: it tells connections apart (all accepted ones share the local address).
                if (matches(GETPEERNAME, fd, addr, len, remote) && matches(GETSOCKNAME, fd, addr, len, local)) {
                    return duplicateOf(fd, channel);
                }
            }
        } catch (Throwable e) {
            return -1;
        }
        return -1;
    }

    /** A duplicate of {@code fd}, found to be the channel's, or -1. */
    private static int duplicateOf(int fd, SocketChannel channel) {
        int dup = Libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0) {
            return -1;
        }
        // Still the channel's? It was open throughout, so its descriptor was not reused.
        return channel.isOpen() ? dup : closed(dup);
    }

    /** A duplicate of a Unix channel's descriptor found by the search, or -1 (package-visible: tests). */
    static int searchUnix(SocketChannel channel) {
        if (GETSOCKNAME == null || GETSOCKOPT == null) {
            return -1;
        }
        int pair = Math.floorMod(LOOKUPS.getAndIncrement(), MARK_PAIRS);
        int firstMark = MARKS_FROM + 2 * pair;
        int secondMark = firstMark + 1;
        int original;
        try {
            original = channel.getOption(StandardSocketOptions.SO_RCVBUF);
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(128, 8);
            MemorySegment len = arena.allocate(JAVA_INT);
            int first = mark(channel, firstMark);
            if (first != firstMark && first != 2 * firstMark) {
                return -1; // clamped (net.core.rmem_max below the marks): they would not tell sockets apart
            }
            for (int fd = descriptorTableSize() - 1; fd >= 0; fd--) {
                if (shows(fd, first, value, len)) {
                    // Only the channel's socket follows the next mark too.
                    if (shows(fd, mark(channel, secondMark), value, len) && isUnix(fd, value, len)) {
                        return duplicateOf(fd, channel);
                    }
                    first = mark(channel, firstMark);
                }
            }
            return -1;
        } catch (Throwable e) {
            return -1;
        } finally {
            try {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, original);
            } catch (IOException | RuntimeException e) {
                // the channel closed meanwhile: nothing to set back
            }
        }
    }

    /** Sets the channel's receive buffer size to {@code size}; what the channel now reports. */
    private static int mark(SocketChannel channel, int size) throws IOException {
        channel.setOption(StandardSocketOptions.SO_RCVBUF, size);
        return channel.getOption(StandardSocketOptions.SO_RCVBUF);
    }

    /**
     * Whether {@code fd}'s receive buffer size is the channel's {@code shown}: the kernel keeps
     * twice what is asked, and the JDK reports a Unix socket's size as asked, so the descriptor
     * shows it doubled (once would do). One call (one that is not a socket fails it).
     */
    private static boolean shows(int fd, int shown, MemorySegment value, MemorySegment len) throws Throwable {
        len.set(JAVA_INT, 0, 4);
        return (int) GETSOCKOPT.invokeExact(fd, SOL_SOCKET, SO_RCVBUF, value, len) == 0
                && (value.get(JAVA_INT, 0) == shown || value.get(JAVA_INT, 0) == 2 * shown);
    }

    private static boolean isUnix(int fd, MemorySegment value, MemorySegment len) throws Throwable {
        len.set(JAVA_INT, 0, (int) value.byteSize());
        return (int) GETSOCKNAME.invokeExact(fd, value, len) == 0
                && Short.toUnsignedInt(value.get(JAVA_SHORT, 0)) == AF_UNIX;
    }

    /** The first mark the next lookup will use (tests make a decoy of it). */
    static int nextFirstMark() {
        return MARKS_FROM + 2 * Math.floorMod(LOOKUPS.get(), MARK_PAIRS);
    }

    /**
     * How many descriptor numbers the process's table holds ({@code FDSize} in {@code
     * /proc/self/status}): every open one is below it. They are tried from the highest down, as a
     * connection that just began is most often among the newest; a number that is closed or not a
     * socket fails the first call at once, which costs less than listing the open ones.
     */
    private static int descriptorTableSize() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("FDSize:")) {
                return Integer.parseInt(line.substring("FDSize:".length()).strip());
            }
        }
        throw new IOException("no FDSize in /proc/self/status");
    }

    private static int closed(int fd) {
        Libc.close(fd);
        return -1;
    }

    private static boolean matches(
            MethodHandle call, int fd, MemorySegment addr, MemorySegment len, InetSocketAddress want) throws Throwable {
        len.set(JAVA_INT, 0, (int) addr.byteSize());
        if ((int) call.invokeExact(fd, addr, len) != 0) {
            return false;
        }
        int family = Short.toUnsignedInt(addr.get(JAVA_SHORT, 0));
        int port = (Byte.toUnsignedInt(addr.get(JAVA_BYTE, 2)) << 8) | Byte.toUnsignedInt(addr.get(JAVA_BYTE, 3));
        if (port != want.getPort()) {
            return false;
        }
        byte[] ip;
        if (family == 2) { // AF_INET
            ip = addr.asSlice(4, 4).toArray(JAVA_BYTE);
        } else if (family == 10) { // AF_INET6, IPv4-mapped addresses as their IPv4 address
            ip = addr.asSlice(8, 16).toArray(JAVA_BYTE);
            if (Arrays.equals(ip, 0, 12, V4_MAPPED, 0, 12)) {
                ip = Arrays.copyOfRange(ip, 12, 16);
            }
        } else {
            return false;
        }
        return want.getAddress() != null && Arrays.equals(ip, want.getAddress().getAddress());
    }

    private static final byte[] V4_MAPPED = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};
}
