package dev.faultdisk.device;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Refuses every change with EPERM, whatever the device below would allow. */
public final class ReadOnlyDevice extends InterceptingDevice {

    public ReadOnlyDevice(BlockDevice next) {
        super(next);
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        return next.readSource(r); // reads pass this layer untouched
    }

    @Override
    public long readVersion(BlockRequest r) {
        return next.readVersion(r); // reads pass this layer untouched
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        if (BlockOp.CHANGES.contains(r.op())) {
            throw new DeviceException(Errno.EPERM, "export is read-only");
        }
        proceed(r, data, sink);
    }

    @Override
    public String describe() {
        return next.describe() + ", read-only";
    }
}
