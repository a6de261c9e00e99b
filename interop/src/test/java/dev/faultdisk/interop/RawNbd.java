package dev.faultdisk.interop;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A bare NBD client for attack tests: the oldest handshake (EXPORT_NAME) and raw request headers. */
final class RawNbd implements Closeable {
    static final int READ = 0;
    static final int WRITE = 1;

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    RawNbd(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(60_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects and chooses {@code export}; returns the client. */
    static RawNbd open(int port, String export) throws IOException {
        RawNbd c = new RawNbd(port);
        c.in.readFully(new byte[18]); // NBDMAGIC, IHAVEOPT, handshake flags
        c.out.writeInt(3); // fixed newstyle, no zeroes
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        c.out.writeLong(0x49484156454F5054L);
        c.out.writeInt(1); // NBD_OPT_EXPORT_NAME
        c.out.writeInt(name.length);
        c.out.write(name);
        c.out.flush();
        c.in.readLong(); // size
        c.in.readShort(); // transmission flags
        return c;
    }

    void header(int type, long cookie, long offset, int length) throws IOException {
        out.writeInt(0x25609513);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
        out.flush();
    }

    /** Reads a simple reply's header; returns its error (the data of a successful read follows). */
    int replyHeader(long cookie) throws IOException {
        if (in.readInt() != 0x67446698) {
            throw new IOException("not a simple reply");
        }
        int error = in.readInt();
        long got = in.readLong();
        if (got != cookie) {
            throw new IOException("reply to " + got + ", expected " + cookie);
        }
        return error;
    }

    /** Reads a simple reply; returns its error (0 for success), the data of a read skipped. */
    int reply(long cookie, int dataLength) throws IOException {
        int error = replyHeader(cookie);
        if (error == 0 && dataLength > 0) {
            in.readFully(new byte[dataLength]);
        }
        return error;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
