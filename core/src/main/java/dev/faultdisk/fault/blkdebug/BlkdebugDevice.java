package dev.faultdisk.fault.blkdebug;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.wire.Errno;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntBinaryOperator;

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
 * volatile read.
 */
public final class BlkdebugDevice extends ForwardingBlockDevice {
    private static final int FORMAT = 1;
    private static final int DEVICE = 2;
    private static final int BOTH = FORMAT | DEVICE;
    private static final IntBinaryOperator OR = (a, b) -> a | b;
    private static final IntBinaryOperator AND = (a, b) -> a & b;

    private final BlkdebugEngine engine;
    /** FORMAT / DEVICE bits: written since that level's last successful flush. */
    private final AtomicInteger dirty = new AtomicInteger();

    public BlkdebugDevice(BlockDevice next, BlkdebugEngine engine) {
        super(next);
        this.engine = engine;
    }

    public BlkdebugEngine engine() {
        return engine;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (!engine.isEngaged()) {
            next.read(offset, dst);
            return;
        }
        run(Operation.READ, offset, dst.remaining(), fallback -> next.read(offset, dst), false);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        if (!engine.isEngaged()) {
            try {
                next.write(offset, src, fua);
            } catch (IOException | RuntimeException e) {
                mark(BOTH);
                throw e;
            }
            wrote(fua);
            return;
        }
        // With FUA, QEMU writes and then flushes (the flush has its own events and check).
        run(fua ? Operation.WRITE_FUA : Operation.WRITE, offset, src.remaining(),
                fallback -> next.write(offset, src, false), false);
    }

    @Override
    public void flush() throws IOException {
        if (!engine.isEngaged()) {
            int was = clear(BOTH);
            try {
                next.flush();
            } catch (IOException | RuntimeException e) {
                mark(was);
                throw e;
            }
            return;
        }
        run(Operation.FLUSH, 0, 0, null, false);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        if (length == 0) {
            return; // QEMU returns before doing anything, events included
        }
        if (!engine.isEngaged()) {
            try {
                next.trim(offset, length, fua);
            } catch (IOException | RuntimeException e) {
                mark(BOTH);
                throw e;
            }
            wrote(fua);
            return;
        }
        run(fua ? Operation.TRIM_FUA : Operation.TRIM, offset, length, fallback -> next.trim(offset, length, false), false);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastOnly, boolean fua) throws IOException {
        if (length == 0) {
            return;
        }
        if (!engine.isEngaged()) {
            try {
                next.writeZeroes(offset, length, noHole, fastOnly, fua);
            } catch (IOException | RuntimeException e) {
                mark(BOTH);
                throw e;
            }
            wrote(fua);
            return;
        }
        // After an injected ENOTSUP QEMU falls back to writing zero buffers (unless the request
        // forbids slow fallbacks): that is a plain write, hence noHole.
        run(fua ? Operation.WRITE_ZEROES_FUA : Operation.WRITE_ZEROES, offset, length,
                fallback -> next.writeZeroes(offset, length, noHole || fallback, fastOnly, false), !fastOnly);
    }

    @Override
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        if (!engine.isEngaged()) {
            next.extents(offset, length, sink);
            return;
        }
        run(Operation.BLOCK_STATUS, offset, length, fallback -> next.extents(offset, length, sink), false);
    }

    @Override
    public boolean mayBlock() {
        return engine.mayBlock() || next.mayBlock();
    }


    /** Stops the engine (resuming anything it holds) before closing the device below. */
    @Override
    public void close() throws IOException {
        engine.shutdown();
        next.close();
    }

    // ---- idle path: only the write/flush bookkeeping ----

    /**
     * Records a successful change made without rules engaged (written inline at each call site:
     * no lambda, so the idle path allocates nothing; a failed one marks both levels dirty).
     */
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
            dirty.getAndAccumulate(bits, OR);
        }
    }

    /** Clears {@code bits}, returning which of them were set. */
    private int clear(int bits) {
        return dirty.getAndAccumulate(~bits, AND) & bits;
    }

    // ---- engaged path: the steps of the event table ----

    @FunctionalInterface
    private interface Io {
        /** Performs the transfer; {@code fallback} is true for QEMU's write-zeroes fallback to a write. */
        void run(boolean fallback) throws IOException;
    }

    private void run(Operation op, long offset, long length, Io io, boolean zeroFallbackAllowed) throws IOException {
        List<Step> steps = EventTable.steps(op);
        IOException failure = null;
        boolean interrupted = false;
        boolean skipIo = false;
        boolean fallback = false;
        int formatWas = 0;
        int deviceWas = 0;
        for (Step step : steps) {
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
                    if (!interrupted) {
                        try {
                            engine.fire(step.event(), op, offset, length);
                        } catch (InterruptedException e) {
                            interrupted = true;
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
                        failure = new DeviceException(errno, "blkdebug injected " + Errno.name(errno) + " into "
                                + type.qapiName() + (flush ? "" : " at offset " + offset), flush ? -1 : offset);
                    }
                }
                case IO -> {
                    if (!skipIo) {
                        try {
                            io.run(fallback);
                        } catch (IOException e) {
                            failure = e;
                        }
                    }
                }
                case FLUSH_IO -> {
                    try {
                        next.flush();
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
