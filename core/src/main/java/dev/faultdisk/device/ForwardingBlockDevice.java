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
    public void read(BlockRequest r, ByteBuffer dst) throws IOException {
        next.read(r, dst);
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) throws IOException {
        next.write(r, src);
    }

    @Override
    public void flush(BlockRequest r) throws IOException {
        next.flush(r);
    }

    @Override
    public void trim(BlockRequest r) throws IOException {
        next.trim(r);
    }

    @Override
    public void writeZeroes(BlockRequest r) throws IOException {
        next.writeZeroes(r);
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) throws IOException {
        next.extents(r, sink);
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
