package dev.faultdisk.snapshot;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The backend of a clone export: a {@link SnapshotVolume#cloneOf clone} of another export's
 * snapshot. Writes go to the clone's own live delta, never to the origin; closing releases the
 * clone's deltas, and once no clone reads the origin's medium it may change again.
 */
public final class CloneDevice implements BlockDevice {
    private final SnapshotVolume volume;
    private final String description;

    CloneDevice(SnapshotVolume volume, String description) {
        this.volume = volume;
        this.description = description;
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public void read(BlockRequest r, ByteBuffer dst) throws IOException {
        volume.read(r.offset(), dst);
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) throws IOException {
        volume.write(r.offset(), src);
    }

    /** The deltas are the clone's medium: a write is in them once it returns. */
    @Override
    public void flush(BlockRequest r) {}

    @Override
    public void trim(BlockRequest r) throws IOException {
        volume.zero(r.offset(), r.length());
    }

    @Override
    public void writeZeroes(BlockRequest r) throws IOException {
        volume.zero(r.offset(), r.length());
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) throws IOException {
        volume.extents(r.offset(), r.length(), sink);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() throws IOException {
        volume.close();
    }
}
