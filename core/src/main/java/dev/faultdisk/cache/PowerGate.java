package dev.faultdisk.cache;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Completion;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.InterceptingDevice;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The top of an export's stack: stamps each request with the power epoch at which it entered
 * ({@link BlockRequest#withEpoch}), so that the {@link WriteCacheDevice} below refuses a request
 * that was held or delayed by a layer in between while the power failed (it must not land on the
 * disk after the cut). When no layer below may block, nothing can hold a request, so the epoch it
 * meets below is the one it entered at and the stamp is skipped: the common path costs one
 * mayBlock() check and allocates nothing.
 */
public final class PowerGate extends InterceptingDevice {
    private final PowerSwitch power;

    public PowerGate(BlockDevice next, PowerSwitch power) {
        super(next);
        this.power = power;
    }

    /** A request that no layer below may hold needs no stamp: it passes as a read would. */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        return next.mayBlock() ? null : next.readSource(r);
    }

    /** As {@link #readSource}: a write no layer below may hold needs no stamp. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        return !next.mayBlock() && next.writeStaged(r, payload);
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        return next.mayBlock() ? null : next.stagePages(offset, length);
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        proceed(next.mayBlock() ? r.withEpoch(power.epoch()) : r, data, sink);
    }

    @Override
    public boolean timedWaitsOnly() {
        return next.timedWaitsOnly();
    }

    /** Stamped here, at entry: a request delayed on a timer across a power cut is refused below, as a held one. */
    @Override
    public void submit(BlockRequest r, ByteBuffer data, ExtentSink sink, Completion done) {
        next.submit(next.mayBlock() ? r.withEpoch(power.epoch()) : r, data, sink, done);
    }
}
