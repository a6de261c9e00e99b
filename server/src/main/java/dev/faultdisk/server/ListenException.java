package dev.faultdisk.server;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/** A socket the server could not listen on, saying which one: NBD, QMP, HTTP or metrics. */
public final class ListenException extends BindException {
    private static final long serialVersionUID = 1L;

    /** Which of the server's sockets failed. */
    public enum Socket {
        NBD,
        QMP,
        HTTP,
        METRICS
    }

    private final Socket socket;
    private final transient SocketAddress address;

    /** @param cause the address taken (a {@link BindException}), or a Unix socket's path unusable */
    ListenException(Socket socket, SocketAddress address, IOException cause) {
        super("cannot listen for " + socket + " on " + format(address) + ": " + cause.getMessage());
        initCause(cause);
        this.socket = socket;
        this.address = address;
    }

    private static String format(SocketAddress address) {
        return switch (address) {
            case InetSocketAddress inet -> inet.getHostString() + ":" + inet.getPort();
            case UnixDomainSocketAddress unix -> "unix:" + unix.getPath();
            default -> String.valueOf(address);
        };
    }

    public Socket socket() {
        return socket;
    }

    public SocketAddress address() {
        return address;
    }

    /** True if the address is taken (another server listens there), not unusable for another reason. */
    public boolean addressInUse() {
        return getCause() instanceof BindException;
    }
}
