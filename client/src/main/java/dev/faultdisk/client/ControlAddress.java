package dev.faultdisk.client;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/** Parses a control socket address: {@code HOST:PORT}, {@code [IPV6]:PORT}, {@code :PORT} or {@code unix:PATH}. */
public final class ControlAddress {
    /** Where {@code faultdisk serve} listens for QMP unless told otherwise. */
    public static final String DEFAULT = "127.0.0.1:4444";

    private ControlAddress() {}

    /**
     * Parses an address to connect to, whose port must not be 0.
     *
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static SocketAddress parse(String text) {
        return parse(text, 1);
    }

    /**
     * Like {@link #parse} for an address to listen on, where port 0 means "any free port".
     *
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static SocketAddress parseListenAddress(String text) {
        return parse(text, 0);
    }

    private static SocketAddress parse(String text, int minPort) {
        if (text.startsWith("unix:")) {
            String path = text.substring("unix:".length());
            if (path.isEmpty()) {
                throw new IllegalArgumentException("unix: needs a socket path, e.g. unix:/tmp/faultdisk-qmp.sock");
            }
            return UnixDomainSocketAddress.of(Path.of(path));
        }
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("address must be HOST:PORT or unix:PATH, not '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            host = "127.0.0.1";
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + text + "'");
        }
        if (port < minPort || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + text + "'");
        }
        return new InetSocketAddress(host, port);
    }

    /** {@code HOST:PORT} or {@code unix:PATH}: the inverse of {@link #parse}. */
    public static String format(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress unix) {
            return "unix:" + unix.getPath();
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        String host = inet.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
}
