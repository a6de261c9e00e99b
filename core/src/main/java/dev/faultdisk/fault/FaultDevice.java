package dev.faultdisk.fault;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.EngineDevice;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Puts a {@link FaultEngine}'s rules in front of a device. With no rules every call costs one
 * volatile read. Otherwise each call walks the rules in their documented order ({@link Fault}):
 * each rule that selects the request changes its plan (fail, hold, delay, skip, move, shorten,
 * replace the data), then the I/O runs as planned, then the hooks faults registered run on its
 * result. Rules see the stack's own {@link BlockRequest}.
 *
 * <p>A request running inline on a connection's reader ({@link BlockRequest#inline()}) was
 * dispatched when no rule could block: it skips rules that block (delay, hang, throttle) added
 * since, as if it had arrived before them. Every request dispatched after such a rule was added
 * runs on its own thread, because {@link #mayBlock()} says so. Closing fails what the engine
 * holds, then closes the device below.
 */
public final class FaultDevice extends EngineDevice<FaultEngine> {

    public FaultDevice(BlockDevice next, FaultEngine engine) {
        super(next, engine);
    }

    /** Only while there are no rules: any rule may select a read (fail, delay, corrupt, drop it). */
    @Override
    public FileChannel readSource(BlockRequest r) throws IOException {
        return engine.snapshot().rules().length == 0 ? next.readSource(r) : null;
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0 || (BlockOp.CHANGES.contains(r.op()) && next.isReadOnly())) {
            proceed(r, data, sink);
            return;
        }
        run(s, r, data, sink);
        if (data != null) {
            data.position(data.limit());
        }
    }

    private void run(FaultEngine.Snapshot s, BlockRequest request, ByteBuffer data, ExtentSink sink)
            throws IOException {
        FaultCall call = new FaultCall(engine, request, data, engine.time().nanos());
        try {
            for (FaultRule rule : s.index().candidates(request)) {
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
                io(call, request, data, sink);
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

    /** Runs the I/O as the rules planned it: maybe elsewhere, shorter or with other data. */
    private void io(FaultCall call, BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        switch (r.op()) {
            case READ -> {
                int start = call.dataStart();
                ByteBuffer d = data.duplicate().limit(start + (int) r.length()).position(start);
                proceed(r.at(call.ioOffset(), r.length()), d, null);
            }
            case WRITE -> proceed(r.at(call.ioOffset(), call.ioLength()), call.ioData(), null);
            case FLUSH -> proceed(r, null, null);
            case TRIM, WRITE_ZEROES -> proceed(r.at(call.ioOffset(), call.ioLength()), null, null);
            case BLOCK_STATUS -> proceed(r.at(call.ioOffset(), r.length()), null, sink);
        }
    }
}
