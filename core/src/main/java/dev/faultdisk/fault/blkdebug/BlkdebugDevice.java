package dev.faultdisk.fault.blkdebug;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.EngineDevice;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts a {@link BlkdebugEngine} in front of a device: each call fires the events and makes the
 * rule checks QEMU's blkdebug would see for it under a raw format node ({@link EventTable}),
 * fails it with {@link DeviceException} where a rule says so, and holds it at breakpoints.
 *
 * <p>Like QEMU, it remembers whether the format level and the blkdebug level were written since
 * their last successful flush: a flush fires {@code flush_to_disk} and is checked only if there is
 * something to flush. This bookkeeping is also done when the engine is idle, so rules added at run
 * time see the right history; it costs a volatile read per write.
 *
 * <p>With no rules and no breakpoints every call goes straight to the device below after one
 * volatile read. Closing stops the engine (resuming anything it holds) before closing the device
 * below.
 */
public final class BlkdebugDevice extends EngineDevice<BlkdebugEngine> {
    private static final int FORMAT = 1;
    private static final int DEVICE = 2;
    private static final int BOTH = FORMAT | DEVICE;

    /** FORMAT / DEVICE bits: written since that level's last successful flush. */
    private final AtomicInteger dirty = new AtomicInteger();

    public BlkdebugDevice(BlockDevice next, BlkdebugEngine engine) {
        super(next, engine);
    }

    /** Only while no rule or breakpoint is engaged: a read fires events they act on. */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        return engine.isEngaged() ? null : next.readSource(r);
    }

    /** Only while no rule or breakpoint is engaged: then a read fires nothing anyone sees. */
    @Override
    public long readVersion(BlockRequest r) {
        return engine.isEngaged() ? UNVERSIONED : next.readVersion(r);
    }

    /** Only while no rule or breakpoint is engaged, with the idle path's write bookkeeping. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        if (engine.isEngaged()) {
            return false;
        }
        boolean done;
        try {
            done = next.writeStaged(r, payload);
        } catch (IOException | RuntimeException e) {
            mark(BOTH);
            throw e;
        }
        if (done) {
            wrote(r.fua());
        }
        return done;
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        return engine.isEngaged() ? null : next.stagePages(offset, length);
    }

    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        BlockOp op = r.op();
        if (r.length() == 0 && (op == BlockOp.TRIM || op == BlockOp.WRITE_ZEROES)) {
            return; // QEMU returns before doing anything, events included
        }
        if (!engine.isEngaged()) {
            idle(r, data, sink);
            return;
        }
        boolean fua = r.fua();
        Operation operation = switch (op) {
            case READ -> Operation.READ;
            case WRITE -> fua ? Operation.WRITE_FUA : Operation.WRITE;
            case FLUSH -> Operation.FLUSH;
            case TRIM -> fua ? Operation.TRIM_FUA : Operation.TRIM;
            case WRITE_ZEROES -> fua ? Operation.WRITE_ZEROES_FUA : Operation.WRITE_ZEROES;
            case BLOCK_STATUS -> Operation.BLOCK_STATUS;
        };
        run(operation, r, data, sink, op == BlockOp.WRITE_ZEROES && !r.has(BlockRequest.Flag.FAST_ZERO));
    }

    /**
     * Without rules engaged: straight to the device below, with the write/flush bookkeeping done
     * inline (no lambda, so the idle path allocates nothing). A failed change marks both levels
     * dirty; a failed flush leaves what it was meant to flush unflushed.
     */
    private void idle(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        switch (r.op()) {
            case READ, BLOCK_STATUS -> proceed(r, data, sink);
            case FLUSH -> {
                int was = clear(BOTH);
                try {
                    proceed(r, data, sink);
                } catch (IOException | RuntimeException e) {
                    mark(was);
                    throw e;
                }
            }
            case WRITE, TRIM, WRITE_ZEROES -> {
                try {
                    proceed(r, data, sink);
                } catch (IOException | RuntimeException e) {
                    mark(BOTH);
                    throw e;
                }
                wrote(r.fua());
            }
        }
    }

    // ---- idle path: only the write/flush bookkeeping ----

    /** Records a successful change made without rules engaged. */
    private void wrote(boolean fua) {
        if (fua) {
            // QEMU's FUA flush leaves the blkdebug level clean; the format level counts this write after it.
            int d;
            do {
                d = dirty.get();
            } while (d != FORMAT && !dirty.compareAndSet(d, FORMAT));
        } else {
            mark(BOTH);
        }
    }

    private void mark(int bits) {
        if ((dirty.get() & bits) != bits) {
            dirty.getAndAccumulate(bits, (a, b) -> a | b);
        }
    }

    /** Clears {@code bits}, returning which of them were set. */
    private int clear(int bits) {
        return dirty.getAndAccumulate(~bits, (a, b) -> a & b) & bits;
    }

    // ---- engaged path: the steps of the event table ----

    /**
     * Runs the event table's steps for one request. Allocates nothing unless a rule fails the
     * request (the exception) or a breakpoint holds it: with many rules engaged, a steady load
     * leaves no garbage for the heap to grow on.
     */
    private void run(Operation op, BlockRequest r, ByteBuffer data, ExtentSink sink, boolean zeroFallbackAllowed)
            throws IOException {
        long offset = r.offset();
        long length = r.length();
        List<Step> steps = EventTable.steps(op);
        IOException failure = null;
        boolean stopped = false; // interrupted or dropped while suspended: no more events
        boolean skipIo = false;
        boolean fallback = false;
        int formatWas = 0;
        int deviceWas = 0;
        for (int k = 0, n = steps.size(); k < n; k++) {
            Step step = steps.get(k);
            boolean ok = failure == null;
            boolean runIt = switch (step.when()) {
                case IF_OK -> ok;
                case ALWAYS -> true;
                case IF_FORMAT_DIRTY -> ok && formatWas != 0;
                case IF_DEVICE_DIRTY -> ok && deviceWas != 0;
            };
            if (!runIt) {
                continue;
            }
            switch (step.kind()) {
                case EVENT -> {
                    if (!stopped) {
                        try {
                            if (!engine.fire(step.event(), op, offset, length, r.connection())) {
                                stopped = true;
                                if (failure == null) {
                                    failure = new DeviceException(
                                            Errno.ECONNRESET,
                                            "dropped at a blkdebug breakpoint on "
                                                    + step.event().qapiName() + ": its connection closed",
                                            -1);
                                }
                            }
                        } catch (InterruptedException e) {
                            stopped = true;
                            Thread.currentThread().interrupt();
                            if (failure == null) {
                                failure = new InterruptedIOException(
                                        "interrupted while suspended at a blkdebug breakpoint on " + step.event());
                            }
                        }
                    }
                }
                case CHECK -> {
                    IoType type = step.ioType();
                    boolean flush = type == IoType.FLUSH;
                    long at = flush ? 0 : offset;
                    long bytes = flush ? 0 : length;
                    int errno = engine.check(type, op, at, bytes);
                    if (errno == Errno.ENOTSUP && type == IoType.WRITE_ZEROES && zeroFallbackAllowed) {
                        fallback = true;
                        errno = engine.check(IoType.WRITE, op, at, bytes);
                    } else if (errno == Errno.ENOTSUP && type == IoType.DISCARD) {
                        skipIo = true; // QEMU treats a discard the driver does not support as done
                        errno = 0;
                    }
                    if (errno != 0) {
                        failure = new DeviceException(
                                errno,
                                "blkdebug injected " + Errno.name(errno) + " into " + type.qapiName()
                                        + (flush ? "" : " at offset " + offset),
                                flush ? -1 : offset);
                    }
                }
                case IO -> {
                    if (!skipIo) {
                        try {
                            // With FUA, QEMU writes and then flushes (the flush has its own events and
                            // check). After an injected ENOTSUP on write-zeroes QEMU falls back to
                            // writing zero buffers (unless the request forbids slow fallbacks): that
                            // is a plain write, hence NO_HOLE.
                            BlockRequest below = r.without(BlockRequest.Flag.FUA);
                            proceed(fallback ? below.with(BlockRequest.Flag.NO_HOLE) : below, data, sink);
                        } catch (IOException e) {
                            failure = e;
                        }
                    }
                }
                case FLUSH_IO -> {
                    try {
                        next.flush(r.asFlush());
                    } catch (IOException e) {
                        failure = e;
                    }
                }
                case BEGIN_FORMAT_FLUSH -> formatWas = clear(FORMAT);
                case BEGIN_DEVICE_FLUSH -> deviceWas = clear(DEVICE);
                case DEVICE_WRITTEN -> mark(DEVICE);
                case FORMAT_WRITTEN -> mark(FORMAT);
            }
        }
        if (failure != null) {
            mark(formatWas | deviceWas); // a failed flush leaves what it was meant to flush unflushed
            throw failure;
        }
    }
}
