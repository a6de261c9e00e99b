package dev.faultdisk.cache;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.FileDevice;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the cache keeps dirty data: a sparse, already unlinked temporary file as large as the
 * device, holding each dirty byte at its own offset. Dirty data thus costs disk blocks (or page
 * cache), never heap, and holes are punched when data leaves the cache.
 */
final class Overlay implements AutoCloseable {
    private final FileDevice file;

    private Overlay(FileDevice file) {
        this.file = file;
    }

    /** Creates the overlay file in {@code dir}; it is unlinked at once, so nothing is left behind. */
    static Overlay create(Path dir, long size) throws IOException {
        Path path = Files.createTempFile(dir, "faultdisk-cache-", ".overlay");
        try {
            return new Overlay(FileDevice.open(path, size, false));
        } finally {
            Files.deleteIfExists(path);
        }
    }

    void write(long offset, ByteBuffer src) throws IOException {
        file.write(BlockRequest.of(BlockOp.WRITE, offset, src.remaining()), src);
    }

    void read(long offset, ByteBuffer dst) throws IOException {
        file.read(BlockRequest.of(BlockOp.READ, offset, dst.remaining()), dst);
    }

    /** Gives back the space of a range whose data is no longer needed. */
    void release(long offset, long length) throws IOException {
        if (length > 0) {
            file.trim(BlockRequest.of(BlockOp.TRIM, offset, length));
        }
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
