package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A block device: the one interface every backend implements and every concern (read-only
 * enforcement, statistics, faults, write cache) decorates. Callers check ranges against
 * {@link #size()} before calling; implementations may assume in-range requests.
 *
 * <p>Errors are reported as {@link DeviceException}, which carries an errno. Implementations must
 * be safe for concurrent use: a frontend runs many requests at once. Buffers passed in belong to
 * the caller and are reused after the call returns: a layer that needs the data later copies it.
 *
 * <p>Every operation takes the {@link BlockRequest} it serves: its range, its flags and what the
 * frontend knows of it. A layer passes it (or a changed copy) down; nothing about a request
 * travels beside it.
 */
public interface BlockDevice extends AutoCloseable {

    /** Size in bytes. */
    long size();

    /** True if writes are refused. */
    boolean isReadOnly();

    /** Fills {@code dst} (all of its remaining bytes, {@code r.length()}) with the data at {@code r.offset()}. */
    void read(BlockRequest r, ByteBuffer dst) throws IOException;

    /** Writes all remaining bytes of {@code src} at {@code r.offset()}; with {@link BlockRequest.Flag#FUA} durable on return. */
    void write(BlockRequest r, ByteBuffer src) throws IOException;

    /** Makes every write completed before this call durable. */
    void flush(BlockRequest r) throws IOException;

    /** Hints that the range is no longer needed; its content is undefined until rewritten. */
    void trim(BlockRequest r) throws IOException;

    /**
     * Makes the range read as zeroes. Without {@link BlockRequest.Flag#NO_HOLE} the device may
     * deallocate it. With {@link BlockRequest.Flag#FAST_ZERO}, fails with {@link Errno#ENOTSUP}
     * instead of doing anything slower than a write.
     */
    void writeZeroes(BlockRequest r) throws IOException;

    /**
     * Reports the allocation state of the range, in order, at least one extent; it may stop early
     * when {@code sink} returns false or cover less than {@code r.length()}.
     */
    void extents(BlockRequest r, ExtentSink sink) throws IOException;

    /** True if several connections may use this device at once with flush visible to all of them. */
    default boolean isMultiConnSafe() {
        return true;
    }

    /**
     * True if a call may block for long (a breakpoint, a held or delayed request). Frontends then
     * run requests on their own threads instead of inline, so one stuck request never holds up
     * the others. Must be cheap: it is asked once per request.
     */
    default boolean mayBlock() {
        return false;
    }

    /**
     * Where the bytes a read of {@code r} would return already lie, when no layer from here down
     * acts on that read now: a file holding them at {@code r.offset()}, or a memory device's pages.
     * A frontend may then write them to its client straight from there (a file's mapping, or
     * sendfile; the pages themselves) instead of reading them into a buffer first. Null when any
     * layer would fail, delay, change, record or watch the read, or the data lies in no such place.
     * Each layer that passes it on does what it does for every read (counting it, say), as
     * {@link #read} would. The answer holds for the request as it arrives now; like a read, it
     * races with changes made meanwhile. Must be cheap: frontends ask it for each large read.
     */
    default ReadSource readSource(BlockRequest r) throws IOException {
        return null;
    }

    /**
     * Writes {@code payload} straight into the medium's file when no layer from here down acts on
     * the bytes of that write now (the mirror of {@link #readSource}): true once written, false,
     * with the payload untouched, when a layer needs the bytes or the medium is not such a file (the
     * frontend then reads the payload into a buffer and calls {@link #write}). Each layer that passes
     * it on does what it does for every write (counting it, taking the power switch, say), as {@link
     * #write} would. A failure is thrown as {@code write} throws it.
     */
    default boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        return false;
    }

    /**
     * Pages of the memory medium below to receive a write's payload into, before the write enters
     * the stack: {@code length} bytes for {@code offset}, laid out as the pages they go to. Given
     * to {@link #writeStaged} afterwards, the medium puts the whole pages in place of those the
     * write covers rather than copying the bytes again. Null when any layer from here down would
     * act on the bytes of a write now (as {@link #writeStaged} would refuse it), when the medium
     * is not memory, or when no pages can be had. Counts as no request: only the write does. The
     * caller fills them, hands them to a write, and then {@linkplain StagedPages#discard discards}
     * them, written or not.
     */
    default StagedPages stagePages(long offset, int length) {
        return null;
    }

    /** {@link #readVersion} of a device that cannot tell: nothing is read from it ahead of time. */
    long UNVERSIONED = -1;

    /**
     * A number that moves whenever what a read of {@code r} would return from this device, or
     * what reading it would do besides (fire events, record it, be refused), may have changed: a
     * read done while it stayed the same returned what a read now would. Lets a layer read a
     * delayed read's data before its delay ends and keep it if nothing changed meanwhile
     * ({@code FaultDevice}). {@link #UNVERSIONED} (the default) when the device cannot tell or a
     * read now would do more than read. Counts only changes made through this process's devices,
     * not an image file changed by another process. Must be cheap: asked twice per delayed read.
     */
    default long readVersion(BlockRequest r) {
        return UNVERSIONED;
    }

    /** {@code own} changes of a layer over the {@code below} version of the device under it. */
    static long versionOver(long own, long below) {
        return below == UNVERSIONED ? UNVERSIONED : own + below;
    }

    /**
     * True if, of the long waits {@link #mayBlock()} allows, a call may meet only timed ones (an
     * injected delay or throttle) that {@link #submit} serves with a timer: a frontend then submits
     * requests instead of giving each a thread. A layer that does not pass submitted requests on
     * to the layer below (the default) says so only when nothing below it may block.
     */
    default boolean timedWaitsOnly() {
        return !mayBlock();
    }

    /**
     * Runs {@code r} and tells {@code done} when it finished, perhaps later and on another thread:
     * a layer that waits for a known time registers the rest of the request with a timer and
     * returns, so that a delayed request holds no thread while it waits ({@link Completion}).
     * {@code data} and {@code sink} as for the operation's own method (the other null). By default
     * the request runs now, on the caller, through this layer's own methods. Frontends submit a
     * request only while {@link #timedWaitsOnly()}, marked {@link BlockRequest#inline()}: any other
     * wait it meets (a rule added since) is skipped, as for an inline request.
     */
    default void submit(BlockRequest r, ByteBuffer data, ExtentSink sink, Completion done) {
        Throwable failure = null;
        try {
            switch (r.op()) {
                case READ -> read(r, data);
                case WRITE -> write(r, data);
                case FLUSH -> flush(r);
                case TRIM -> trim(r);
                case WRITE_ZEROES -> writeZeroes(r);
                case BLOCK_STATUS -> extents(r, sink);
            }
        } catch (Throwable e) {
            failure = e; // handed to the completion, which reports a bug as the frontend does
        }
        done.complete(failure);
    }

    /** A short human-readable description of what backs this device. */
    String describe();

    @Override
    void close() throws IOException;
}
