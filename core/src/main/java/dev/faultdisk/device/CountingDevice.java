package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Counts operations, bytes and errors (by errno too) per operation into a {@link DeviceStats}. */
public final class CountingDevice extends InterceptingDevice {
    private final DeviceStats stats;

    public CountingDevice(BlockDevice next, DeviceStats stats) {
        super(next);
        this.stats = stats;
    }

    /** Counts a read sent from the file as {@link #read} counts a successful one. */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        ReadSource source = next.readSource(r);
        if (source != null) {
            stats.record(r.op(), r.length(), false);
        }
        return source;
    }

    /** Counts nothing: the write they go to counts. */
    @Override
    public StagedPages stagePages(long offset, int length) {
        return next.stagePages(offset, length);
    }

    /** Counts a staged write as {@link #write} counts one, once a layer below took it. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        boolean done = false;
        boolean failed = true;
        try {
            done = next.writeStaged(r, payload);
            failed = false;
            return done;
        } catch (DeviceException e) {
            stats.recordErrno(r.op(), e.errno());
            throw e;
        } finally {
            if (done || failed) {
                stats.record(r.op(), r.length(), failed);
            }
        }
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        boolean failed = true;
        try {
            proceed(r, data, sink);
            failed = false;
        } catch (DeviceException e) {
            stats.recordErrno(r.op(), e.errno());
            throw e;
        } finally {
            stats.record(r.op(), r.length(), failed);
        }
    }

    @Override
    public boolean timedWaitsOnly() {
        return next.timedWaitsOnly();
    }

    @Override
    public void submit(BlockRequest r, ByteBuffer data, ExtentSink sink, Completion done) {
        next.submit(r, data, sink, done.after(failure -> {
            if (failure instanceof DeviceException e) {
                stats.recordErrno(r.op(), e.errno());
            }
            stats.record(r.op(), r.length(), failure != null);
        }));
    }
}
