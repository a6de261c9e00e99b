package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One request on its way through the rules: the plan its I/O will follow, which faults change
 * (fail it, skip it, move it, shorten it, replace the data to write) and hooks to run once the
 * I/O is done. The caller's buffers are never changed by a write fault: {@link #writableCopy()}
 * copies the data first. A read's buffer is the caller's destination and read faults change it
 * after the I/O, as a disk returning bad data would.
 */
public final class FaultCall {

    /** Runs after the I/O succeeded. */
    @FunctionalInterface
    public interface Hook {
        void run(FaultCall call) throws IOException;
    }

    private final FaultEngine engine;
    private final BlockRequest request;
    private final ByteBuffer data;
    private final int dataStart;
    private ByteBuffer copy;
    private long ioOffset;
    private long ioLength;
    private boolean skipIo;
    private DeviceException failure;
    private DeviceException afterIoFailure;
    private List<Hook> hooks;
    private long now;
    private long wait;
    HeldRequests.Hold hold;

    FaultCall(FaultEngine engine, BlockRequest request, ByteBuffer data, long now) {
        this.engine = engine;
        this.request = request;
        this.data = data;
        this.dataStart = data == null ? 0 : data.position();
        this.ioOffset = request.offset();
        this.ioLength = request.length();
        this.now = now;
    }

    public BlockRequest request() {
        return request;
    }

    /** The caller's buffer as passed in (a read's destination, a write's source), or null. */
    ByteBuffer requestData() {
        return data;
    }

    public FaultTime time() {
        return engine.time();
    }

    FaultEngine engine() {
        return engine;
    }

    /** The time the rules see, in nanoseconds since the epoch; moves on after a delay or a hold. */
    public long now() {
        return now;
    }

    void refreshNow() {
        now = engine.time().nanos();
    }

    /**
     * Makes the request wait {@code nanos} from {@link #now()} before the next rule acts: the
     * fault layer serves the wait once the fault that asked returns (a timed fault, {@link Stage#timed()}).
     */
    public void waitFor(long nanos) {
        wait = Math.max(wait, nanos);
    }

    /** The wait the last fault asked for (0: none), and clears it. */
    long takeWait() {
        long w = wait;
        wait = 0;
        return w;
    }

    /** The export's size. */
    public long exportSize() {
        return engine.size();
    }

    /** Fails the request before its I/O; no later rule runs. */
    public void fail(DeviceException e) {
        failure = e;
    }

    public boolean failed() {
        return failure != null;
    }

    DeviceException failure() {
        return failure;
    }

    /** Reports success without doing the I/O. */
    public void skipIo() {
        skipIo = true;
    }

    public boolean ioSkipped() {
        return skipIo;
    }

    /** Performs the I/O at {@code offset} instead. */
    public void redirect(long offset) {
        ioOffset = offset;
    }

    public long ioOffset() {
        return ioOffset;
    }

    /** Performs only the first {@code length} bytes of the I/O (none: skipped). */
    public void truncate(long length) {
        ioLength = Math.min(ioLength, length);
        if (ioLength == 0) {
            skipIo = true;
        }
    }

    public long ioLength() {
        return ioLength;
    }

    /** Fails the request after its I/O ran (a torn write that reports an error). */
    public void failAfterIo(DeviceException e) {
        afterIoFailure = e;
    }

    DeviceException afterIoFailure() {
        return afterIoFailure;
    }

    /** Registers a hook to run once the I/O succeeded. */
    public void afterIo(Hook hook) {
        if (hooks == null) {
            hooks = new ArrayList<>(2);
        }
        hooks.add(hook);
    }

    void runHooks() throws IOException {
        if (hooks != null) {
            for (Hook h : hooks) {
                h.run(this);
            }
        }
    }

    /**
     * The bytes of a read (after the I/O) or of a write, indexed absolutely from {@link #dataStart()}
     * for {@link BlockRequest#length()} bytes. Read faults change them in place; write faults must use
     * {@link #writableCopy()}.
     */
    public ByteBuffer data() {
        return copy != null ? copy : data;
    }

    /** Where the request's bytes start in {@link #data()}. */
    public int dataStart() {
        return copy != null ? 0 : dataStart;
    }

    /** A private copy of the data to write, made once; later write faults see the same copy. */
    public ByteBuffer writableCopy() {
        if (copy == null) {
            int length = (int) request.length();
            copy = ByteBuffer.allocate(length);
            copy.put(0, data, dataStart, length);
        }
        return copy;
    }

    /** The data to write: the caller's bytes or the copy, limited to {@link #ioLength()}. */
    ByteBuffer ioData() {
        ByteBuffer d = data().duplicate();
        int start = dataStart();
        return d.limit(start + (int) ioLength).position(start);
    }

    /** Records an injected fault: counts it, journals it and announces it. */
    public void record(Firing firing, String action, Map<String, Object> details) {
        engine.record(this, firing, action, details);
    }
}
