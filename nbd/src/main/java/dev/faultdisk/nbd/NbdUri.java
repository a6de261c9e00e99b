package dev.faultdisk.nbd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/** The NBD URIs (the scheme libnbd, nbdinfo and QEMU take) of a server's exports. */
public final class NbdUri {
    private NbdUri() {}

    /**
     * The URI a client on this host uses for {@code export} at {@code address}: a wildcard address
     * (0.0.0.0, ::) becomes the loopback one of its family; {@code tls} makes it {@code nbds}.
     */
    public static String of(SocketAddress address, String export, boolean tls) {
        String scheme = tls ? "nbds" : "nbd";
        if (address instanceof UnixDomainSocketAddress unix) {
            return scheme + "+unix:///" + export + "?socket=" + unix.getPath();
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        InetAddress ip = inet.getAddress();
        String host = ip != null && ip.isAnyLocalAddress()
                ? (ip.getAddress().length == 16 ? "::1" : "127.0.0.1")
                : inet.getHostString();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return scheme + "://" + host + ":" + inet.getPort() + "/" + export;
    }
}
