package dev.faultdisk.history;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.InterceptingDevice;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.wire.history.HistoryEntry.Kind;
import dev.faultdisk.wire.history.HistoryWriter;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Records what the requests of an export did to its medium, while a history is being recorded
 * (docs/EXPLORE.md): every completed write with its data, trim and write-zeroes, each flush when
 * it begins and when it completes, in the order they happened here. It sits just above the write
 * cache, under the fault layers, so it records what requests did after the faults decided (a
 * write a fault moved is recorded where it landed; a failed one not at all).
 *
 * <p>While no history is being recorded a request costs one volatile read. A change is logged
 * after it completed, and the writer is read only then: a change that raced with the start is
 * either in the base snapshot or logged (or both, which replays to the same bytes).
 */
public final class RecorderDevice extends InterceptingDevice {
    private final FaultTime time;
    private volatile HistoryWriter writer;
    private volatile boolean reads;

    public RecorderDevice(BlockDevice next, FaultTime time) {
        super(next);
        this.time = time;
    }

    /** Starts logging into {@code w}; fails if a history is being recorded already. */
    public synchronized void start(HistoryWriter w) {
        start(w, false);
    }

    /** Starts logging into {@code w}, reads too (their place, not their data) if {@code withReads}. */
    public synchronized void start(HistoryWriter w, boolean withReads) {
        if (writer != null) {
            throw new IllegalStateException("a history is being recorded already (" + writer.path() + ")");
        }
        reads = withReads;
        writer = w;
    }

    /** Stops logging and returns the writer (not closed), or null if none was logging. */
    public synchronized HistoryWriter stop() {
        HistoryWriter w = writer;
        writer = null;
        return w;
    }

    /** The writer logging now, or null. */
    public HistoryWriter writer() {
        return writer;
    }

    /** Only while no history is recorded. */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        return writer == null ? next.readSource(r) : null;
    }

    /** Only while no history is recorded: a recorded read logs its place when it runs. */
    @Override
    public long readVersion(BlockRequest r) {
        return writer == null ? next.readVersion(r) : UNVERSIONED;
    }

    /** Only while no history is recorded: a recorded write logs its data. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        return writer == null && next.writeStaged(r, payload);
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        return writer == null ? next.stagePages(offset, length) : null;
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        if (writer == null) {
            proceed(r, data, sink);
            return;
        }
        switch (r.op()) {
            case WRITE -> {
                ByteBuffer copy = data.duplicate();
                long start = time.nanos();
                proceed(r, data, sink);
                HistoryWriter w = writer;
                if (w != null) {
                    w.change(
                            Kind.WRITE,
                            r.offset(),
                            copy.remaining(),
                            r.fua(),
                            r.connection(),
                            start,
                            time.nanos(),
                            copy);
                }
            }
            case TRIM, WRITE_ZEROES -> {
                long start = time.nanos();
                proceed(r, data, sink);
                HistoryWriter w = writer;
                if (w != null) {
                    Kind kind = r.op() == dev.faultdisk.wire.BlockOp.TRIM ? Kind.TRIM : Kind.WRITE_ZEROES;
                    w.change(kind, r.offset(), r.length(), r.fua(), r.connection(), start, time.nanos(), null);
                }
            }
            case FLUSH -> {
                HistoryWriter w = writer;
                long start = time.nanos();
                long begin = w == null ? -1 : w.flushBegin(r.connection(), start);
                proceed(r, data, sink);
                if (begin >= 0) {
                    w.flushEnd(begin, r.connection(), start, time.nanos());
                }
            }
            case READ -> {
                if (!reads) {
                    proceed(r, data, sink);
                    return;
                }
                long start = time.nanos();
                proceed(r, data, sink);
                HistoryWriter w = writer;
                if (w != null) {
                    w.read(r.offset(), r.length(), r.connection(), start, time.nanos());
                }
            }
            default -> proceed(r, data, sink);
        }
    }

    @Override
    public String describe() {
        return next.describe();
    }
}
