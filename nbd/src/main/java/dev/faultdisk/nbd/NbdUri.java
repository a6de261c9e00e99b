package dev.faultdisk.nbd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;

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
            return scheme + "+unix:///" + encode(export) + "?socket="
                    + encode(unix.getPath().toString());
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        String host = clientHost(inet);
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return scheme + "://" + host + ":" + inet.getPort() + "/" + encode(export);
    }

    /** The host a client on this host connects to: a wildcard address becomes the loopback one of its family. */
    public static String clientHost(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        return ip != null && ip.isAnyLocalAddress()
                ? (ip.getAddress().length == 16 ? "::1" : "127.0.0.1")
                : address.getHostString();
    }

    /**
     * Percent-encodes what a URI's path may not hold as it is: an export's name is any UTF-8 (NBD's
     * rule), and clients decode the path back into it.
     */
    static String encode(String text) {
        return encode(text, "-._~/:@");
    }

    /**
     * A URI's user part ({@code nbds://USER@...}, the PSK user libnbd sends): unreserved characters
     * as they are, the rest percent-encoded.
     */
    public static String encodeUser(String user) {
        return encode(user, "-._~");
    }

    /** Percent-encodes {@code text}'s UTF-8 but for letters, digits and {@code kept}. */
    private static String encode(String text, String kept) {
        StringBuilder out = new StringBuilder(text.length());
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || kept.indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return out.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
}
