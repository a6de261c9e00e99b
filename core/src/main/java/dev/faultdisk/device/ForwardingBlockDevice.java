package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Base for decorators: forwards every call to the device below. Subclasses override what they change. */
public abstract class ForwardingBlockDevice implements BlockDevice {
    protected final BlockDevice next;

    protected ForwardingBlockDevice(BlockDevice next) {
        this.next = next;
    }

    /** The device this one decorates. */
    public BlockDevice next() {
        return next;
    }

    @Override
    public long size() {
        return next.size();
    }

    @Override
    public boolean isReadOnly() {
        return next.isReadOnly();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        next.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        next.write(offset, src, fua);
    }

    @Override
    public void flush() throws IOException {
        next.flush();
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        next.trim(offset, length, fua);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastOnly, boolean fua)
            throws IOException {
        next.writeZeroes(offset, length, noHole, fastOnly, fua);
    }

    @Override
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        next.extents(offset, length, sink);
    }

    @Override
    public boolean isMultiConnSafe() {
        return next.isMultiConnSafe();
    }

    @Override
    public boolean mayBlock() {
        return next.mayBlock();
    }


    @Override
    public String describe() {
        return next.describe();
    }

    @Override
    public void close() throws IOException {
        next.close();
    }
}
