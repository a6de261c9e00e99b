package dev.faultdisk.trigger;

import dev.faultdisk.cache.PowerSwitch;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Completion;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.InterceptingDevice;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.fault.FaultEngine;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An export's trigger layer: offers each request the server's triggers count to the
 * {@link TriggerEngine} before it goes on, and applies what fired triggers do to it (hold, delay,
 * fail, tear, lose). Reports completed flushes to the engine. Until an engine is attached, and for
 * requests no trigger counts, it costs one volatile read and a set lookup.
 *
 * <p>A request the engine makes wait (for another firing's commands, or its own) carries the power
 * epoch it entered at, so that a power cut meanwhile keeps it off the disk, as for a held request.
 */
public final class TriggerDevice extends InterceptingDevice {
    private final String export;
    private final PowerSwitch power;
    private final FaultEngine faults;
    private final FaultTime time;
    private volatile TriggerEngine engine;

    public TriggerDevice(BlockDevice next, String export, PowerSwitch power, FaultEngine faults, FaultTime time) {
        super(next);
        this.export = export;
        this.power = power;
        this.faults = faults;
        this.time = time;
    }

    /** Connects the layer to the server's triggers. */
    public void attach(TriggerEngine engine) {
        this.engine = engine;
    }

    @Override
    public boolean mayBlock() {
        TriggerEngine e = engine;
        return (e != null && e.mayBlock()) || next.mayBlock();
    }

    /** Only while no trigger is armed: an armed one counts requests in order, reads included. */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        TriggerEngine e = engine;
        return e == null || !(e.isEngaged() || e.watches(export, r.op()) || e.watchesEvents())
                ? next.readSource(r)
                : null;
    }

    /** As {@link #readSource}: only while no trigger is armed. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        TriggerEngine e = engine;
        return (e == null || !(e.isEngaged() || e.watches(export, r.op()) || e.watchesEvents()))
                && next.writeStaged(r, payload);
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        TriggerEngine e = engine;
        return e == null || !(e.isEngaged() || e.watches(export, BlockOp.WRITE) || e.watchesEvents())
                ? next.stagePages(offset, length)
                : null;
    }

    /** Only while no trigger is engaged: triggers count requests in order and may hold them on a thread. */
    @Override
    public boolean timedWaitsOnly() {
        TriggerEngine e = engine;
        return (e == null || !(e.isEngaged() || e.watchesEvents())) && next.timedWaitsOnly();
    }

    @Override
    public void submit(BlockRequest r, ByteBuffer data, ExtentSink sink, Completion done) {
        TriggerEngine e = engine;
        if (e != null && (e.isEngaged() || e.watchesEvents())) {
            // A trigger engaged since the frontend chose to submit: counted and acted on now, on
            // this thread, as an inline request is.
            super.submit(r, data, sink, done);
            return;
        }
        next.submit(r, data, sink, done);
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        TriggerEngine e = engine;
        if (e == null || !e.watches(export, r.op())) {
            if (e != null && e.isEngaged()) {
                e.pass(r.connection(), r.sequence());
            }
            proceed(r, data, sink);
            if (e != null && r.op() == BlockOp.FLUSH && e.watchesEvents()) {
                e.onEvent(Observation.event(Observation.Kind.FLUSH_DONE, export, null));
            }
            return;
        }
        BlockRequest entered = r.epoch() == BlockRequest.NO_EPOCH ? r.withEpoch(power.epoch()) : r;
        List<RequestAction> actions =
                e.onRequest(Observation.request(export, r.op(), r.offset(), r.length(), r.connection()), r.sequence());
        apply(actions, 0, entered, data, sink);
        if (r.op() == BlockOp.FLUSH && e.watchesEvents()) {
            e.onEvent(Observation.event(Observation.Kind.FLUSH_DONE, export, null));
        }
    }

    /** Applies actions from {@code index} on, then runs the request unless an action decided otherwise. */
    private void apply(List<RequestAction> actions, int index, BlockRequest r, ByteBuffer data, ExtentSink sink)
            throws IOException {
        for (int i = index; i < actions.size(); i++) {
            RequestAction a = actions.get(i);
            switch (a.action()) {
                case TriggerAction.Hold hold -> {
                    int next = i + 1;
                    faults.holdForTrigger(r, a.trigger(), hold.timeoutNanos(), errno -> {
                        if (errno != 0) {
                            throw new DeviceException(errno, "failed while held by trigger " + a.trigger(), r.offset());
                        }
                        apply(actions, next, r, data, sink);
                    });
                    return;
                }
                case TriggerAction.Delay delay -> sleep(delay.nanos());
                case TriggerAction.Fail fail ->
                    throw new DeviceException(fail.errno(), "failed by trigger " + a.trigger(), r.offset());
                case TriggerAction.Tear tear -> {
                    if (r.op() == BlockOp.WRITE) {
                        tear(r, data, tear);
                        return;
                    }
                }
                case TriggerAction.Lose lose -> {
                    if (BlockOp.CHANGES.contains(r.op())) {
                        if (data != null) {
                            data.position(data.limit()); // consumed, as a write that landed
                        }
                        return;
                    }
                }
                case TriggerAction.Command command -> {
                    // run by the engine before the request actions
                }
            }
        }
        proceed(r, data, sink);
    }

    private void tear(BlockRequest r, ByteBuffer data, TriggerAction.Tear tear) throws IOException {
        long keep = Math.min((long) data.remaining(), tear.keepSectors() * 512);
        if (keep > 0) {
            ByteBuffer part = data.slice(data.position(), (int) keep);
            proceed(r.at(r.offset(), keep), part, null);
        }
        data.position(data.limit());
        if (tear.errno() != 0) {
            throw new DeviceException(tear.errno(), "torn by a trigger after " + keep + " bytes", r.offset() + keep);
        }
    }

    private void sleep(long nanos) throws IOException {
        try {
            faults.sleepUntil(time.clock().instant().plusNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while delayed by a trigger");
        }
    }
}
