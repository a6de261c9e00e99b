package dev.faultdisk.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Lines in and out of a socket channel. QMP output is one JSON object per line. Reads and writes
 * use the channel directly: its stream adapters may serialise a blocked read with writes.
 */
final class LineChannel {
    /** A reply longer than this is not QMP from a sane server; it ends the connection. */
    static final int MAX_LINE = 64 << 20;
    /** What every NBD server sends first (then IHAVEOPT, or the old-style greeting). */
    private static final byte[] NBD_MAGIC = "NBDMAGIC".getBytes(StandardCharsets.US_ASCII);

    private final ByteChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(64 << 10).flip();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Object writeLock = new Object();
    /** Until the first line ends: an NBD server's greeting has no newline, so it is recognised by its magic. */
    private boolean firstLine = true;

    LineChannel(ByteChannel channel) {
        this.channel = channel;
    }

    /** The next line without its CR LF, or null at end of stream. Called by one thread only. */
    String readLine() throws IOException {
        while (true) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    byte[] bytes = line.toByteArray();
                    line.reset();
                    int n = bytes.length;
                    if (n > 0 && bytes[n - 1] == '\r') {
                        n--;
                    }
                    firstLine = false;
                    return new String(bytes, 0, n, StandardCharsets.UTF_8);
                }
                if (line.size() >= MAX_LINE) {
                    throw new IOException("the server sent a line longer than " + MAX_LINE + " bytes");
                }
                line.write(b);
                if (firstLine && line.size() == NBD_MAGIC.length && Arrays.equals(line.toByteArray(), NBD_MAGIC)) {
                    throw new NotQmpException(
                            "it is an NBD server (it greeted with NBDMAGIC), not a QMP control socket");
                }
            }
            in.clear();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                return null;
            }
        }
    }

    /** Writes {@code text} and a newline, whole, even when several threads write. */
    void writeLine(String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (writeLock) {
            while (out.hasRemaining()) {
                channel.write(out);
            }
        }
    }

    void close() throws IOException {
        channel.close();
    }
}
