package dev.faultdisk.cache;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ForwardingBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The top of an export's stack: records the power epoch at which each request entered, so that
 * the {@link WriteCacheDevice} below refuses a request that was held or delayed by a layer in
 * between while the power failed (it must not land on the disk after the cut). When no layer
 * below may block, nothing can hold a request, so the request's epoch is the current one and the
 * binding is skipped: the common path costs one mayBlock() check.
 */
public final class PowerGate extends ForwardingBlockDevice {
    private final WriteCacheDevice cache;

    public PowerGate(BlockDevice next, WriteCacheDevice cache) {
        super(next);
        this.cache = cache;
    }

    private ScopedValue.Carrier entered() {
        return ScopedValue.where(WriteCacheDevice.ENTRY_EPOCH, cache.epoch());
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (!next.mayBlock()) {
            next.read(offset, dst);
            return;
        }
        entered().call(() -> {
            next.read(offset, dst);
            return null;
        });
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        if (!next.mayBlock()) {
            next.write(offset, src, fua);
            return;
        }
        entered().call(() -> {
            next.write(offset, src, fua);
            return null;
        });
    }

    @Override
    public void flush() throws IOException {
        if (!next.mayBlock()) {
            next.flush();
            return;
        }
        entered().call(() -> {
            next.flush();
            return null;
        });
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        if (!next.mayBlock()) {
            next.trim(offset, length, fua);
            return;
        }
        entered().call(() -> {
            next.trim(offset, length, fua);
            return null;
        });
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastOnly, boolean fua)
            throws IOException {
        if (!next.mayBlock()) {
            next.writeZeroes(offset, length, noHole, fastOnly, fua);
            return;
        }
        entered().call(() -> {
            next.writeZeroes(offset, length, noHole, fastOnly, fua);
            return null;
        });
    }

    @Override
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        if (!next.mayBlock()) {
            next.extents(offset, length, sink);
            return;
        }
        entered().call(() -> {
            next.extents(offset, length, sink);
            return null;
        });
    }
}
