package dev.faultdisk.device;

import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Refuses every change with EPERM, whatever the device below would allow. */
public final class ReadOnlyDevice extends ForwardingBlockDevice {

    public ReadOnlyDevice(BlockDevice next) {
        super(next);
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) throws IOException {
        throw refused();
    }

    @Override
    public void trim(BlockRequest r) throws IOException {
        throw refused();
    }

    @Override
    public void writeZeroes(BlockRequest r) throws IOException {
        throw refused();
    }

    @Override
    public String describe() {
        return next.describe() + ", read-only";
    }

    private static DeviceException refused() {
        return new DeviceException(Errno.EPERM, "export is read-only");
    }
}
