package dev.faultdisk.wire.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * A connected socket channel as the {@link Socket} a TLS layer is built over. A TCP channel has
 * one; a Unix domain socket channel has none ({@code socket()} throws), so TLS over a Unix socket
 * (which nbdkit, qemu-nbd and libnbd all offer) gets this adapter: its streams are the channel's,
 * closing and shutting down act on the channel, and it has no inet address or port. A blocking
 * channel has no read timeout, so the handshake's is kept by {@link #deadline}, which closes the
 * channel if the handshake is not over in time.
 */
public final class ChannelSocket extends Socket {
    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;
    private int timeout;

    private ChannelSocket(SocketChannel channel) {
        this.channel = channel;
        this.in = Channels.newInputStream(channel);
        this.out = Channels.newOutputStream(channel);
    }

    /** The channel's own socket if it has one (TCP), else an adapter over the channel. */
    public static Socket of(SocketChannel channel) {
        try {
            return channel.socket();
        } catch (UnsupportedOperationException e) {
            return new ChannelSocket(channel);
        }
    }

    /**
     * Bounds a blocking exchange on {@code socket} (a TLS handshake) by {@code millis}: for an
     * adapter, the channel is closed when the time is up and the exchange not over (closing it
     * ends a blocked read); a socket of its own keeps its read timeout, and this does nothing.
     */
    static Deadline deadline(Socket socket, int millis) {
        Deadline d = new Deadline();
        if (socket instanceof ChannelSocket adapter && millis > 0) {
            d.watch = Thread.ofVirtual().name("tls-handshake-deadline").start(() -> {
                try {
                    Thread.sleep(millis);
                    d.expired = true;
                    adapter.channel.close();
                } catch (InterruptedException | IOException e) {
                    // over in time (interrupted), or already closed
                }
            });
        }
        return d;
    }

    /** A TLS handshake, run by {@link #handshakeWithin}. */
    @FunctionalInterface
    interface Handshake {
        void run() throws IOException;
    }

    /**
     * Runs {@code handshake} on {@code plain} bounded by {@code millis}: with that read timeout
     * on a socket of its own, under a {@link #deadline} on an adapter. Its read timeout is
     * restored after. Running out of time is a {@link SocketTimeoutException} saying so.
     */
    static void handshakeWithin(Socket plain, int millis, Handshake handshake) throws IOException {
        int old = plain.getSoTimeout();
        plain.setSoTimeout(millis);
        try (Deadline deadline = deadline(plain, millis)) {
            try {
                handshake.run();
            } catch (IOException e) {
                if (deadline.expired()) {
                    throw new SocketTimeoutException("TLS handshake not done within " + millis + " ms");
                }
                throw e;
            }
        }
        plain.setSoTimeout(old);
    }

    /** A running {@link #deadline}; closing it stops the watch. */
    static final class Deadline implements AutoCloseable {
        private Thread watch;
        private volatile boolean expired;

        /** True if the time ran out (the channel was closed for it). */
        boolean expired() {
            return expired;
        }

        @Override
        public void close() {
            if (watch != null) {
                watch.interrupt();
            }
        }
    }

    @Override
    public InputStream getInputStream() {
        return in;
    }

    @Override
    public OutputStream getOutputStream() {
        return out;
    }

    @Override
    public boolean isConnected() {
        return channel.isConnected();
    }

    @Override
    public boolean isBound() {
        return true;
    }

    @Override
    public boolean isClosed() {
        return !channel.isOpen();
    }

    @Override
    public boolean isInputShutdown() {
        return !channel.isOpen();
    }

    @Override
    public boolean isOutputShutdown() {
        return !channel.isOpen();
    }

    @Override
    public void shutdownInput() throws IOException {
        channel.shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public InetAddress getInetAddress() {
        return null; // a Unix socket's peer has no inet address (the TLS layer then names no host)
    }

    @Override
    public int getPort() {
        return 0;
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        try {
            return channel.getRemoteAddress();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        try {
            return channel.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void setSoTimeout(int timeout) {
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() {
        return timeout;
    }

    @Override
    public void setTcpNoDelay(boolean on) {
        // not TCP
    }

    @Override
    public boolean getTcpNoDelay() {
        return false;
    }

    @Override
    public String toString() {
        return "ChannelSocket[" + getRemoteSocketAddress() + "]";
    }
}
