package dev.faultdisk.fault;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Completion;
import dev.faultdisk.device.EngineDevice;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;

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
 *
 * <p>A submitted request ({@link #submit}) walks the same rules, but a timed wait (delay,
 * throttle) registers the rest of its walk with the fault clock's timer and returns: the rest
 * (later rules, the I/O, the hooks) runs when the timer fires, where the request's
 * {@link Completion} resumes it. Rules that wait for something else (hang) are skipped, as for an
 * inline request: the frontend submits only while no such rule exists.
 *
 * <p>A submitted read whose last rule makes it wait is read before the wait, on the thread that
 * submitted it, when the device below can say whether what it holds changed meanwhile ({@link
 * BlockDevice#readVersion}): after the wait the data read is kept if nothing changed, and read
 * again otherwise, so a write landing during the wait is still seen. The thread that ends the
 * waits then only answers: it serves a platoon of reads falling due together much sooner
 * (docs/BENCHMARKS.md). {@code -Dfaultdisk.delay.readAhead=false} turns it off.
 */
public final class FaultDevice extends EngineDevice<FaultEngine> {

    private static final boolean READ_AHEAD =
            Boolean.parseBoolean(System.getProperty("faultdisk.delay.readAhead", "true"));

    public FaultDevice(BlockDevice next, FaultEngine engine) {
        super(next, engine);
    }

    /** Only while there are no rules: any rule may select a read (fail, delay, corrupt, drop it). */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        return engine.snapshot().rules().length == 0 ? next.readSource(r) : null;
    }

    /** Only while there are no rules: any rule may select a write. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        return engine.snapshot().rules().length == 0 && next.writeStaged(r, payload);
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        return engine.snapshot().rules().length == 0 ? next.stagePages(offset, length) : null;
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
            walk(s.index().candidates(request), 0, call, null);
            finish(call, request, data, sink);
        } finally {
            if (call.hold != null) {
                call.hold.done.countDown();
            }
        }
    }

    /**
     * Applies {@code rules} from {@code first} on. A timed wait is slept out here, or, for a
     * submitted request ({@code submitted} not null), registered with the timer to resume it
     * from the next rule: then true. A rule that waits for something else (hang) is skipped by a
     * submitted request, and any waiting rule by an inline one.
     */
    private boolean walk(FaultRule[] rules, int first, FaultCall call, Walk submitted) throws IOException {
        BlockRequest request = call.request();
        for (int i = first; i < rules.length; i++) {
            Fault fault = rules[i].fault();
            Stage stage = fault.stage();
            if (stage.blocks() && (submitted != null ? !stage.timed() : request.inline())) {
                continue;
            }
            Firing firing = rules[i].select(request, call.now());
            if (firing == null) {
                continue;
            }
            fault.apply(call, firing);
            if (call.failed()) {
                throw call.failure();
            }
            long wait = call.takeWait();
            if (wait > 0) {
                if (submitted != null) {
                    submitted.next = i + 1; // before the timer can fire
                    if (i + 1 == rules.length) {
                        submitted.readAhead();
                    }
                    engine.schedule(call.now() + wait, submitted, submitted.done.waiter(), submitted::goOn);
                    return true;
                }
                DelayFault.sleep(call, wait);
            }
            if (stage.blocks()) {
                call.refreshNow();
            }
        }
        return false;
    }

    /** The I/O as the rules planned it, then their hooks; an after-I/O failure is thrown last. */
    private void finish(FaultCall call, BlockRequest request, ByteBuffer data, ExtentSink sink) throws IOException {
        finish(call, request, data, sink, false);
    }

    /** As above, the I/O left out if {@code ioDone} (read ahead, and still what a read returns). */
    private void finish(FaultCall call, BlockRequest request, ByteBuffer data, ExtentSink sink, boolean ioDone)
            throws IOException {
        if (!call.ioSkipped() && !ioDone) {
            io(call, request, data, sink);
        }
        call.runHooks();
        if (call.afterIoFailure() != null) {
            throw call.afterIoFailure();
        }
    }

    @Override
    public boolean timedWaitsOnly() {
        return engine.timedWaitsOnly() && !next.mayBlock();
    }

    @Override
    public void submit(BlockRequest r, ByteBuffer data, ExtentSink sink, Completion done) {
        FaultEngine.Snapshot s = engine.snapshot();
        if (s.rules().length == 0 || (BlockOp.CHANGES.contains(r.op()) && next.isReadOnly())) {
            next.submit(r, data, sink, done);
            return;
        }
        new Walk(
                        s.index().candidates(r),
                        new FaultCall(engine, r, data, engine.time().nanos()),
                        sink,
                        done)
                .from(0);
    }

    /** A submitted request's walk through the rules, resumable after each timed wait. */
    private final class Walk implements Runnable {
        private final FaultRule[] rules;
        private final FaultCall call;
        private final ExtentSink sink;
        private final Completion done;
        /** The rule to go on from once the timer fires; set before it is registered. */
        private int next;
        /** The device's {@link BlockDevice#readVersion} before the read done ahead of the wait, if one was. */
        private long readAhead = UNVERSIONED;

        Walk(FaultRule[] rules, FaultCall call, ExtentSink sink, Completion done) {
            this.rules = rules;
            this.call = call;
            this.sink = sink;
            this.done = done;
        }

        /** The timer fired: the rest of the walk goes on where the request's completion resumes it. */
        @Override
        public void run() {
            done.resume(this::goOn);
        }

        /** The rest of the walk, after the wait, on the thread that runs it. */
        void goOn() {
            call.refreshNow();
            from(next);
        }

        /**
         * Before the last wait of a read: its I/O as planned now (no rule comes after to change
         * the plan), kept if the device below is unchanged once the wait ends. A failure here is
         * forgotten: the read is done again after the wait, and fails or not then.
         */
        void readAhead() {
            BlockRequest request = call.request();
            if (!READ_AHEAD || request.op() != BlockOp.READ || call.ioSkipped()) {
                return;
            }
            long version = FaultDevice.this.next.readVersion(request);
            if (version == UNVERSIONED) {
                return;
            }
            try {
                io(call, request, call.requestData(), null);
                readAhead = version;
            } catch (IOException | RuntimeException e) {
                // left unversioned: the read is done after the wait
            }
        }

        /** True if the read done ahead returns what a read now would. */
        private boolean readStillValid() {
            return readAhead != UNVERSIONED && FaultDevice.this.next.readVersion(call.request()) == readAhead;
        }

        void from(int first) {
            Throwable failure = null;
            try {
                if (walk(rules, first, call, this)) {
                    return; // the timer resumes it
                }
                ByteBuffer data = call.requestData();
                finish(call, call.request(), data, sink, readStillValid());
                if (data != null) {
                    data.position(data.limit());
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
            done.complete(failure);
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
