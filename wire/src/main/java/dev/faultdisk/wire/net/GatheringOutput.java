package dev.faultdisk.wire.net;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A TLS session's output that seals straight from buffers (heap, direct or a file's mapping),
 * gathered across them, with no copy into an array first: {@link StreamChannel} hands it the
 * buffers it is given.
 */
public interface GatheringOutput {
    /** Seals and sends what {@code src} holds; returns the bytes taken. */
    long write(ByteBuffer src) throws IOException;

    /** Seals and sends what the buffers hold, in order; returns the bytes taken. */
    long write(ByteBuffer[] srcs, int offset, int length) throws IOException;
}
