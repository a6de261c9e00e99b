package dev.faultdisk.cli;

import dev.faultdisk.client.ControlAddress;
import dev.faultdisk.wire.net.Listener;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Listen addresses for serve (parsed as the control client parses them, port 0 allowed) and NBD URIs. */
final class Endpoints {
    private Endpoints() {}

    static SocketAddress parse(String text) {
        return ControlAddress.parseListenAddress(text);
    }

    /**
     * A TCP listen address for the HTTP servers: {@code HOST:PORT}, or just {@code PORT} (or
     * {@code :PORT}) for 127.0.0.1: these servers listen on loopback unless told otherwise.
     */
    static InetSocketAddress tcp(String text) {
        String t = text.startsWith(":") ? text.substring(1) : text;
        if (t.matches("[0-9]+")) {
            t = "127.0.0.1:" + t;
        }
        if (!(parse(t) instanceof InetSocketAddress inet)) {
            throw new IllegalArgumentException("'" + text + "' is not HOST:PORT (a TCP address is needed here)");
        }
        return inet;
    }

    /** A listen address and, for a Unix socket, the permissions asked for with {@code ,mode=} (or null). */
    record Listen(SocketAddress address, String unixMode) {}

    /** {@code HOST:PORT}, {@code unix:PATH} or {@code unix:PATH,mode=0660}. */
    static Listen parseWithMode(String text) {
        int comma = text.lastIndexOf(",mode=");
        if (!text.startsWith("unix:") || comma < 0) {
            return new Listen(parse(text), null);
        }
        String mode = text.substring(comma + ",mode=".length());
        Listener.permissions(mode); // checked now, not at bind
        return new Listen(parse(text.substring(0, comma)), mode);
    }
}
