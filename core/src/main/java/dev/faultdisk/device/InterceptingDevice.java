package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Base for decorators that treat every operation alike (counting, the power gate, the fault
 * layer): each operation arrives at {@link #around} once, which passes it on with
 * {@link #proceed}. The request's operation says which of {@code data} (read, write) and
 * {@code sink} (block status) is set; the other is null. Nothing is allocated on the way: no
 * continuation object is built per request.
 */
public abstract class InterceptingDevice extends ForwardingBlockDevice {

    protected InterceptingDevice(BlockDevice next) {
        super(next);
    }

    /** Runs {@code r}: calls {@link #proceed} (with it or a changed copy) to run it below, or not. */
    protected abstract void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException;

    /** Runs {@code r} on the device below, by its operation. */
    protected final void proceed(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        switch (r.op()) {
            case READ -> next.read(r, data);
            case WRITE -> next.write(r, data);
            case FLUSH -> next.flush(r);
            case TRIM -> next.trim(r);
            case WRITE_ZEROES -> next.writeZeroes(r);
            case BLOCK_STATUS -> next.extents(r, sink);
        }
    }

    @Override
    public final void read(BlockRequest r, ByteBuffer dst) throws IOException {
        around(r, dst, null);
    }

    @Override
    public final void write(BlockRequest r, ByteBuffer src) throws IOException {
        around(r, src, null);
    }

    @Override
    public final void flush(BlockRequest r) throws IOException {
        around(r, null, null);
    }

    @Override
    public final void trim(BlockRequest r) throws IOException {
        around(r, null, null);
    }

    @Override
    public final void writeZeroes(BlockRequest r) throws IOException {
        around(r, null, null);
    }

    @Override
    public final void extents(BlockRequest r, ExtentSink sink) throws IOException {
        around(r, null, sink);
    }
}
