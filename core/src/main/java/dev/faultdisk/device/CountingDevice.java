package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Counts operations, bytes and errors per operation into a {@link DeviceStats}. */
public final class CountingDevice extends ForwardingBlockDevice {
    private final DeviceStats stats;

    public CountingDevice(BlockDevice next, DeviceStats stats) {
        super(next);
        this.stats = stats;
    }

    public DeviceStats stats() {
        return stats;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        boolean failed = true;
        try {
            next.read(offset, dst);
            failed = false;
        } finally {
            stats.record(DeviceStats.Op.READ, length, failed);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int length = src.remaining();
        boolean failed = true;
        try {
            next.write(offset, src, fua);
            failed = false;
        } finally {
            stats.record(DeviceStats.Op.WRITE, length, failed);
        }
    }

    @Override
    public void flush() throws IOException {
        boolean failed = true;
        try {
            next.flush();
            failed = false;
        } finally {
            stats.record(DeviceStats.Op.FLUSH, 0, failed);
        }
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        boolean failed = true;
        try {
            next.trim(offset, length, fua);
            failed = false;
        } finally {
            stats.record(DeviceStats.Op.TRIM, length, failed);
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastOnly, boolean fua)
            throws IOException {
        boolean failed = true;
        try {
            next.writeZeroes(offset, length, noHole, fastOnly, fua);
            failed = false;
        } finally {
            stats.record(DeviceStats.Op.WRITE_ZEROES, length, failed);
        }
    }

    @Override
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        boolean failed = true;
        try {
            next.extents(offset, length, sink);
            failed = false;
        } finally {
            stats.record(DeviceStats.Op.EXTENTS, length, failed);
        }
    }
}
