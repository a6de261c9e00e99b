package dev.faultdisk.fault;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.RequestContext;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Puts a {@link FaultEngine}'s rules in front of a device. With no rules every call costs one
 * volatile read. Otherwise each call walks the rules in their documented order ({@link Fault}):
 * each rule that selects the request changes its plan (fail, hold, delay, skip, move, shorten,
 * replace the data), then the I/O runs as planned, then the hooks faults registered run on its
 * result.
 *
 * <p>A request running inline on a connection's reader ({@link RequestContext#inline()}) was
 * dispatched when no rule could block: it skips rules that block (delay, hang, throttle) added
 * since, as if it had arrived before them. Every request dispatched after such a rule was added
 * runs on its own thread, because {@link #mayBlock()} says so.
 */
public final class FaultDevice extends ForwardingBlockDevice {
    private final FaultEngine engine;

    public FaultDevice(BlockDevice next, FaultEngine engine) {
        super(next);
        this.engine = engine;
    }

    public FaultEngine engine() {
        return engine;
    }

    @FunctionalInterface
    private interface Io {
        void run(FaultCall call) throws IOException;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0) {
            next.read(offset, dst);
            return;
        }
        run(s, Op.READ, offset, dst.remaining(), dst, c -> {
            ByteBuffer d = dst.duplicate();
            next.read(c.ioOffset(), d.limit(c.dataStart() + (int) c.request().length()).position(c.dataStart()));
        });
        dst.position(dst.limit());
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0 || next.isReadOnly()) {
            next.write(offset, src, fua);
            return;
        }
        run(s, Op.WRITE, offset, src.remaining(), src, c -> next.write(c.ioOffset(), c.ioData(), fua));
        src.position(src.limit());
    }

    @Override
    public void flush() throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0) {
            next.flush();
            return;
        }
        run(s, Op.FLUSH, 0, 0, null, c -> next.flush());
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0 || next.isReadOnly()) {
            next.trim(offset, length, fua);
            return;
        }
        run(s, Op.TRIM, offset, length, null, c -> next.trim(c.ioOffset(), c.ioLength(), fua));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastOnly, boolean fua) throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0 || next.isReadOnly()) {
            next.writeZeroes(offset, length, noHole, fastOnly, fua);
            return;
        }
        run(s, Op.WRITE_ZEROES, offset, length, null,
                c -> next.writeZeroes(c.ioOffset(), c.ioLength(), noHole, fastOnly, fua));
    }

    @Override
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0) {
            next.extents(offset, length, sink);
            return;
        }
        run(s, Op.BLOCK_STATUS, offset, length, null, c -> next.extents(c.ioOffset(), length, sink));
    }

    @Override
    public boolean mayBlock() {
        return engine.mayBlock() || next.mayBlock();
    }

    /** Fails what the engine holds, then closes the device below. */
    @Override
    public void close() throws IOException {
        engine.shutdown();
        next.close();
    }

    private void run(FaultEngine.Snapshot s, Op op, long offset, long length, ByteBuffer data, Io io)
            throws IOException {
        RequestContext context = RequestContext.current();
        Request request = new Request(op, offset, length, context.connection(), context.inline());
        FaultCall call = new FaultCall(engine, request, data, engine.time().nanos());
        try {
            for (FaultRule rule : s.rules()) {
                Fault fault = rule.fault();
                if (fault.blocks() && request.inline()) {
                    continue;
                }
                Firing firing = rule.select(request, call.now());
                if (firing != null) {
                    fault.apply(call, firing);
                    if (call.failed()) {
                        throw call.failure();
                    }
                    if (fault.blocks()) {
                        call.refreshNow();
                    }
                }
            }
            if (!call.ioSkipped()) {
                io.run(call);
            }
            call.runHooks();
            if (call.afterIoFailure() != null) {
                throw call.afterIoFailure();
            }
        } finally {
            if (call.hold != null) {
                call.hold.done.countDown();
            }
        }
    }
}
