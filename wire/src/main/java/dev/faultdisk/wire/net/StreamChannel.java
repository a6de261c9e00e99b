package dev.faultdisk.wire.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;

/**
 * A socket's streams as a channel, so that code written for {@code SocketChannel} (the plaintext
 * fast path) also runs over a TLS socket. Reads and writes may come from different threads, as
 * on a socket; writes from several threads must be serialised by the caller.
 */
public final class StreamChannel implements ByteChannel, GatheringByteChannel {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] readBuffer = new byte[16 * 1024];
    private final byte[] writeBuffer = new byte[16 * 1024];
    private volatile boolean open = true;

    public StreamChannel(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        int n;
        if (dst.hasArray()) {
            n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
        } else {
            n = in.read(readBuffer, 0, Math.min(readBuffer.length, dst.remaining()));
            if (n > 0) {
                dst.put(readBuffer, 0, n);
            }
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        int total = src.remaining();
        if (src.hasArray()) {
            out.write(src.array(), src.arrayOffset() + src.position(), total);
            src.position(src.limit());
        } else {
            while (src.hasRemaining()) {
                int n = Math.min(writeBuffer.length, src.remaining());
                src.get(writeBuffer, 0, n);
                out.write(writeBuffer, 0, n);
            }
        }
        out.flush();
        return total;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += write(srcs[i]);
        }
        return total;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public boolean isOpen() {
        return open && !socket.isClosed();
    }

    @Override
    public void close() throws IOException {
        open = false;
        socket.close();
    }
}
