package dev.faultdisk.nbd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The descriptor behind a TCP {@link SocketChannel}, which the JDK does not expose: the process's
 * socket descriptors ({@code /proc/self/fd}) are asked for their local and peer addresses
 * (getsockname, getpeername), and the one whose pair equals the channel's is duplicated, so that
 * the number stays this caller's until it closes it (the channel's own may be closed and reused
 * meanwhile). A TCP connection is the only one with its address pair, so the match is exact.
 */
final class SocketDescriptors {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final FunctionDescriptor NAME = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle GETSOCKNAME = Libc.function("getsockname", NAME);
    private static final MethodHandle GETPEERNAME = Libc.function("getpeername", NAME);

    private SocketDescriptors() {}

    /** A duplicate of the channel's descriptor (the caller closes it), or -1 if not found or not TCP. */
    static int duplicate(SocketChannel channel) {
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
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"));
                Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(128, 8);
            MemorySegment len = arena.allocate(JAVA_INT);
            for (Path p : fds) {
                int fd;
                try {
                    fd = Integer.parseInt(p.getFileName().toString());
                    if (!Files.readSymbolicLink(p).toString().startsWith("socket:")) {
                        continue;
                    }
                } catch (IOException | NumberFormatException e) {
                    continue; // closed meanwhile, or not a descriptor
                }
                if (matches(GETSOCKNAME, fd, addr, len, local) && matches(GETPEERNAME, fd, addr, len, remote)) {
                    int dup = Libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
                    if (dup < 0) {
                        return -1;
                    }
                    // Still the channel's? It was open throughout, so its descriptor was not reused.
                    return channel.isOpen() ? dup : closed(dup);
                }
            }
        } catch (Throwable e) {
            return -1;
        }
        return -1;
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
        int family = Short.toUnsignedInt(addr.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 0));
        int port = (Byte.toUnsignedInt(addr.get(JAVA_BYTE, 2)) << 8) | Byte.toUnsignedInt(addr.get(JAVA_BYTE, 3));
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
        return port == want.getPort()
                && want.getAddress() != null
                && Arrays.equals(ip, want.getAddress().getAddress());
    }

    private static final byte[] V4_MAPPED = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};
}
