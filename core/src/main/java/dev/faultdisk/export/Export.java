package dev.faultdisk.export;

import dev.faultdisk.cache.PowerFailReport;
import dev.faultdisk.cache.PowerSwitch;
import dev.faultdisk.cache.WriteCacheDevice;
import dev.faultdisk.cache.WriteCacheDevice.BeforeChange;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceStats;
import dev.faultdisk.device.RequestTimer;
import dev.faultdisk.fault.FaultEngine;
import dev.faultdisk.fault.FaultListener;
import dev.faultdisk.fault.FaultRecord;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugConfig;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.fault.blkdebug.BlkdebugListener;
import dev.faultdisk.fault.blkdebug.Breakpoint;
import dev.faultdisk.fault.blkdebug.Rule;
import dev.faultdisk.fault.blkdebug.SuspendedRequest;
import dev.faultdisk.history.CrashState;
import dev.faultdisk.history.HistoryStatus;
import dev.faultdisk.history.Materializer;
import dev.faultdisk.history.RecorderDevice;
import dev.faultdisk.snapshot.CloneDevice;
import dev.faultdisk.snapshot.SnapshotDevice;
import dev.faultdisk.snapshot.SnapshotVolume;
import dev.faultdisk.trigger.Observation;
import dev.faultdisk.trigger.TriggerDevice;
import dev.faultdisk.trigger.TriggerEngine;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import dev.faultdisk.wire.history.HistoryReader;
import dev.faultdisk.wire.history.HistoryWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * A named device as served to clients: the backend wrapped in the export's layers, in the order
 * {@link Layer} lists. Every export has a fault engine and a blkdebug engine, each idle until it
 * is given rules (or breakpoints), and a write cache (writethrough unless asked otherwise) under
 * a power switch.
 */
public final class Export implements AutoCloseable {
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,127}");

    private final String name;
    private final String description;
    private final BlockDevice backend;
    private final BlockDevice top;
    private final DeviceStats stats = new DeviceStats();
    private final BlkdebugEngine blkdebug;
    private final WriteCacheDevice cache;
    private final FaultEngine faults;
    private final PowerSwitch power = new PowerSwitch();
    private final TriggerDevice triggerLayer;
    private final SnapshotDevice snapshotLayer;
    private final RecorderDevice recorder;
    private final FaultTime time;
    private volatile TriggerEngine triggers;
    private volatile RequestTimer timer;
    private HistoryStatus lastHistory;
    private Materializer materializer;

    public Export(String name, BlockDevice backend, boolean readOnly) {
        this(name, backend, readOnly, new BlkdebugEngine());
    }

    public Export(String name, BlockDevice backend, boolean readOnly, BlkdebugEngine blkdebug) {
        this(name, backend, readOnly, blkdebug, CacheMode.WRITETHROUGH);
    }

    /** An export whose write cache starts in {@code cacheMode}. */
    public Export(String name, BlockDevice backend, boolean readOnly, BlkdebugEngine blkdebug, CacheMode cacheMode) {
        this(name, backend, readOnly, blkdebug, cacheMode, FaultTime.system(), new SplittableRandom().nextLong());
    }

    /**
     * An export whose write cache starts in {@code cacheMode} and whose fault rules run on
     * {@code faultTime}, deriving the seeds of rules without one from {@code faultSeed}.
     */
    public Export(
            String name,
            BlockDevice backend,
            boolean readOnly,
            BlkdebugEngine blkdebug,
            CacheMode cacheMode,
            FaultTime faultTime,
            long faultSeed) {
        this.name = name;
        this.backend = backend;
        this.blkdebug = blkdebug;
        this.faults = new FaultEngine(name, backend.size(), faultTime, faultSeed);
        ExportStack stack = ExportStack.build(
                new ExportParts(name, backend, readOnly, cacheMode, stats, power, faults, blkdebug, faultTime));
        this.cache = stack.layer(Layer.WRITE_CACHE, WriteCacheDevice.class);
        this.triggerLayer = stack.layer(Layer.TRIGGERS, TriggerDevice.class);
        this.snapshotLayer = stack.layer(Layer.SNAPSHOTS, SnapshotDevice.class);
        this.recorder = stack.layer(Layer.RECORDER, RecorderDevice.class);
        this.time = faultTime;
        this.top = stack.top();
        this.description = top.describe();
    }

    /** Opens the export a spec describes, with the blkdebug rules of its rule files. */
    public static Export open(ExportSpec spec) throws IOException {
        return open(spec, FaultTime.system(), new SplittableRandom().nextLong());
    }

    /** Opens the export a spec describes, with fault rules on {@code faultTime} seeded from {@code faultSeed}. */
    public static Export open(ExportSpec spec, FaultTime faultTime, long faultSeed) throws IOException {
        List<Rule> rules = new ArrayList<>();
        for (Path file : spec.ruleFiles()) {
            rules.addAll(BlkdebugConfig.load(file));
        }
        BlkdebugEngine engine = new BlkdebugEngine(rules);
        return new Export(spec.name(), spec.openBackend(), spec.readOnly(), engine, spec.cache(), faultTime, faultSeed);
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    /** The top of the device stack: what frontends talk to. */
    public BlockDevice device() {
        return top;
    }

    /** The device at the bottom of the stack. */
    public BlockDevice backend() {
        return backend;
    }

    /** What the frontend tells each request's latency (arrival to reply), or null if nothing times them. */
    public RequestTimer timer() {
        return timer;
    }

    /** Times this export's requests with {@code timer} from the next connection on (metrics). */
    public void timeRequestsWith(RequestTimer timer) {
        this.timer = Objects.requireNonNull(timer, "timer");
    }

    public DeviceStats stats() {
        return stats;
    }

    /** The export's blkdebug rule engine: rules, state, breakpoints. */
    public BlkdebugEngine blkdebug() {
        return blkdebug;
    }

    /** The export's write cache: its mode, dirty data and deferred errors. */
    public WriteCacheDevice writeCache() {
        return cache;
    }

    /** The export's power switch. */
    public PowerSwitch power() {
        return power;
    }

    /** Cuts the power and restores it; see {@link PowerSwitch#powerFail}. */
    public PowerFailReport powerFail(PowerFailMode mode, long seed) {
        return power.powerFail(mode, seed);
    }

    /** Runs {@code listener} after every power cut, e.g. to drop the export's connections. */
    public void onPowerFail(Runnable listener) {
        power.onPowerFail(listener);
    }

    /**
     * Connects the export to the server's triggers: its requests are offered to them, and so are
     * its events (blkdebug events, faults fired, breakpoints hit, power cuts). Once per export.
     */
    public void attachTriggers(TriggerEngine engine) {
        if (triggers != null) {
            throw new IllegalStateException("export '" + name + "' is attached to triggers already");
        }
        triggers = engine;
        triggerLayer.attach(engine);
        blkdebug.observeEvents(engine::watchesBlkdebugEvents, event -> {
            if (engine.watchesBlkdebugEvents()) {
                engine.onEvent(Observation.event(Observation.Kind.BLKDEBUG_EVENT, name, event.qapiName()));
            }
        });
        blkdebug.addListener(new BlkdebugListener() {
            @Override
            public void suspended(SuspendedRequest request) {
                engine.onEvent(Observation.event(Observation.Kind.BREAKPOINT_HIT, name, request.tag()));
            }
        });
        faults.addListener(new FaultListener() {
            @Override
            public void injected(FaultRecord record) {
                if (engine.watchesEvents()) { // no observation built while no trigger counts events
                    engine.onEvent(Observation.event(Observation.Kind.FAULT_FIRED, name, Long.toString(record.rule())));
                }
            }
        });
        power.onPowerFail(() -> engine.onEvent(Observation.event(Observation.Kind.POWER_CUT, name, null)));
    }

    // ---- snapshots ----

    /**
     * Takes a snapshot named {@code name} of what clients read now: the write cache is persisted
     * first, as QEMU flushes before a snapshot.
     *
     * @throws IllegalArgumentException for a bad or taken name, or with {@link SnapshotVolume#MAX_SNAPSHOTS}
     *     already; nothing changes then
     */
    public synchronized SnapshotVolume.Snapshotted createSnapshot(String name) throws IOException {
        checkNewSnapshot(name);
        return cache.changeMedium(BeforeChange.PERSIST, () -> snapshotLayer.create(name))
                .result();
    }

    /**
     * Returns the data to snapshot {@code name}, in time proportional to what changed since. Like
     * swapping the medium: the write cache's dirty data is dropped (the answer says how much), and
     * requests that entered before the revert and had not reached the cache fail with ESHUTDOWN.
     *
     * @throws IllegalArgumentException for an unknown snapshot; nothing changes then
     */
    public synchronized SnapshotRevert revertSnapshot(String name) throws IOException {
        requireSnapshot(name);
        return revertLocked(name);
    }

    private SnapshotRevert revertLocked(String name) throws IOException {
        WriteCacheDevice.MediumChange<Long> change =
                cache.changeMedium(BeforeChange.DROP, () -> snapshotLayer.revert(name));
        return new SnapshotRevert(name, change.result(), change.droppedBytes(), change.droppedRanges());
    }

    /**
     * Deletes snapshot {@code name}; what clients read does not change. Deleting the last one
     * writes what changed since the first back into the backend.
     *
     * @throws IllegalArgumentException for an unknown snapshot; nothing changes then
     */
    public synchronized void deleteSnapshot(String name) throws IOException {
        requireSnapshot(name);
        cache.changeMedium(BeforeChange.KEEP, () -> {
            snapshotLayer.delete(name);
            return null;
        });
    }

    /**
     * The backend of a clone export: what snapshot {@code name} holds, copy-on-write, with writes
     * that never reach this export or its snapshots. This export can not be closed while it lives.
     *
     * @throws IllegalArgumentException for an unknown snapshot; nothing changes then
     */
    public synchronized CloneDevice cloneOf(String name) {
        requireSnapshot(name);
        return snapshotLayer.cloneOf(name, "clone of " + this.name + "@" + name + " (" + backend.describe() + ")");
    }

    /** True while clone exports read this export's medium (see {@link #cloneOf}). */
    public boolean hasClones() {
        return snapshotLayer.hasClones();
    }

    /** The snapshots, oldest first: name, time taken, bytes changed since. */
    public List<SnapshotVolume.Snapshotted> snapshots() {
        return snapshotLayer.snapshots();
    }

    private void requireSnapshot(String name) {
        if (!snapshotLayer.has(name)) {
            List<String> names = snapshotLayer.snapshots().stream()
                    .map(SnapshotVolume.Snapshotted::name)
                    .toList();
            throw new IllegalArgumentException("export '" + this.name + "' has no snapshot '" + name + "'"
                    + (names.isEmpty() ? " (it has none)" : " (it has: " + String.join(", ", names) + ")"));
        }
    }

    // ---- histories (docs/EXPLORE.md) ----

    /**
     * Starts recording a history into the new file {@code path}: takes snapshot {@code base}
     * (the data before the first entry, the cache persisted first) and, in the same pause of the
     * data path, starts the recorder, so no change falls between the two.
     *
     * @throws IllegalArgumentException for a bad or taken snapshot name, a history already running
     *     or an existing file; nothing changes then
     */
    public synchronized HistoryStatus historyStart(Path path, String base, long maxBytes) throws IOException {
        return historyStart(path, base, maxBytes, false);
    }

    /** As {@link #historyStart(Path, String, long)}; with {@code reads}, completed reads are logged too. */
    public synchronized HistoryStatus historyStart(Path path, String base, long maxBytes, boolean reads)
            throws IOException {
        if (recorder.writer() != null) {
            throw new IllegalArgumentException("export '" + name + "' is recording a history already (into "
                    + recorder.writer().path() + "); stop it first");
        }
        checkNewSnapshot(base);
        if (java.nio.file.Files.exists(path)) {
            throw new IllegalArgumentException("history file " + path + " exists already");
        }
        HistoryWriter writer = HistoryWriter.create(
                path, name, base, top.size(), 512, time.clock().millis(), maxBytes);
        try {
            cache.changeMedium(BeforeChange.PERSIST, () -> {
                snapshotLayer.create(base);
                recorder.start(writer, reads);
                return null;
            });
        } catch (IOException | RuntimeException e) {
            writer.close();
            java.nio.file.Files.deleteIfExists(path);
            throw e;
        }
        lastHistory = new HistoryStatus(true, path, base, 0, writer.bytes(), null);
        return lastHistory;
    }

    /** Adds a mark with {@code label} to the history being recorded; returns its entry number. */
    public long historyMark(String label) {
        HistoryWriter w = recorder.writer();
        if (w == null) {
            throw new IllegalArgumentException("export '" + name + "' is not recording a history");
        }
        return w.mark(label, time.nanos());
    }

    /** Stops recording and closes the history file (forced to the disk); the base snapshot stays. */
    public synchronized HistoryStatus historyStop() throws IOException {
        HistoryWriter w = recorder.stop();
        if (w == null) {
            throw new IllegalArgumentException("export '" + name + "' is not recording a history");
        }
        w.close();
        lastHistory =
                new HistoryStatus(false, w.path(), lastHistory.baseSnapshot(), w.entries(), w.bytes(), w.failure());
        return lastHistory;
    }

    /** The history being recorded, or the last one, or null if none was. */
    public synchronized HistoryStatus historyStatus() {
        HistoryWriter w = recorder.writer();
        if (w != null) {
            return new HistoryStatus(true, w.path(), lastHistory.baseSnapshot(), w.entries(), w.bytes(), w.failure());
        }
        return lastHistory;
    }

    /**
     * Puts the export's data into crash state {@code state} of the history in {@code path}
     * (recorded from this export, its base snapshot still here); returns the bytes applied.
     */
    public synchronized long materialize(Path path, CrashState state) throws IOException {
        if (recorder.writer() != null) {
            throw new IllegalArgumentException("export '" + name + "' is recording a history; stop it first");
        }
        if (materializer == null || !materializer.history().path().equals(path)) {
            historyRelease();
            HistoryReader reader = HistoryReader.open(path);
            if (!snapshotLayer.has(reader.header().baseSnapshot())) {
                reader.close();
                throw new IllegalArgumentException("export '" + name + "' has no snapshot '"
                        + reader.header().baseSnapshot() + "', the base of history " + path);
            }
            if (reader.header().size() != top.size()) {
                reader.close();
                throw new IllegalArgumentException("history " + path + " is of a "
                        + reader.header().size() + "-byte device; export '" + name + "' has " + top.size());
            }
            materializer = new Materializer(reader, new Materializer.Medium() {
                @Override
                public void revert(String snapshot) throws IOException {
                    revertLocked(snapshot);
                }

                @Override
                public void create(String snapshot) throws IOException {
                    createSnapshot(snapshot);
                }

                @Override
                public void delete(String snapshot) throws IOException {
                    if (snapshotLayer.has(snapshot)) {
                        deleteSnapshot(snapshot);
                    }
                }

                @Override
                public BlockDevice device() {
                    return recorder.next();
                }
            });
        }
        return materializer.materialize(state);
    }

    /** Lets go of the history the last {@link #materialize} read, and deletes its checkpoint snapshot. */
    public synchronized void historyRelease() throws IOException {
        Materializer m = materializer;
        materializer = null;
        if (m != null) {
            m.close();
        }
    }

    private void checkNewSnapshot(String snapshot) {
        if (!SNAPSHOT_NAME.matcher(snapshot).matches()) {
            throw new IllegalArgumentException("bad snapshot name '" + snapshot
                    + "': 1 to 128 letters, digits and _.:@- (not starting with . : @ -)");
        }
        if (snapshotLayer.has(snapshot)) {
            throw new IllegalArgumentException("export '" + this.name + "' has a snapshot '" + snapshot + "' already");
        }
        if (snapshotLayer.snapshots().size() >= SnapshotVolume.MAX_SNAPSHOTS) {
            throw new IllegalArgumentException(
                    "export '" + this.name + "' holds " + SnapshotVolume.MAX_SNAPSHOTS + " snapshots, the most it may");
        }
    }

    // ---- reset ----

    /**
     * Returns the export to a known state: fault rules removed; what they (or triggers) hold
     * failed with ESHUTDOWN, or with {@code releaseHeld} released and run to completion first;
     * delays under way cut short; blkdebug rules, state and breakpoints cleared and suspended
     * requests resumed; an armed flush error disarmed; counters zeroed; optionally the data
     * reverted to {@code snapshot}. Nothing issued before the reset lands after it: the reset
     * fences the medium as a power cut does, so a request still on its way down (resumed, its
     * delay cut short) fails with ESHUTDOWN. The server's triggers are not the export's: remove
     * them first, so none fires meanwhile.
     *
     * @throws IllegalArgumentException for an unknown snapshot; nothing changes then
     */
    public synchronized ResetReport reset(boolean releaseHeld, String snapshot) throws IOException {
        if (snapshot != null) {
            requireSnapshot(snapshot);
        }
        int released =
                releaseHeld ? faults.release(null, FaultEngine.Order.FIFO, 0, 0).size() : 0;
        SnapshotRevert revert = null;
        if (snapshot != null) {
            revert = revertLocked(snapshot);
        } else {
            cache.changeMedium(BeforeChange.FENCE, () -> null);
        }
        // Behind the fence: whatever is let go now fails below instead of landing.
        int failed =
                faults.release(null, FaultEngine.Order.FIFO, Errno.ESHUTDOWN, 0).size();
        int faultRules = faults.clear().size();
        faults.cutShortWaits();
        int blkdebugRules = blkdebug.rules().size();
        blkdebug.clearRules();
        Set<String> tags = new LinkedHashSet<>();
        List<Breakpoint> breakpoints = blkdebug.breakpoints();
        List<SuspendedRequest> suspended = blkdebug.suspended();
        breakpoints.forEach(b -> tags.add(b.tag()));
        suspended.forEach(r -> tags.add(r.tag()));
        for (String tag : tags) {
            blkdebug.removeBreakpoint(tag);
        }
        boolean disarmed = cache.disarmDeferredFlushError();
        stats.reset();
        cache.resetCounters();
        return new ResetReport(
                faultRules, failed, released, blkdebugRules, breakpoints.size(), suspended.size(), disarmed, revert);
    }

    /**
     * A client connection to this export closed: its requests held by fault rules, triggers or
     * blkdebug breakpoints are dropped and never reach the disk. Returns how many.
     */
    public int connectionClosed(long connection) {
        return faults.dropConnection(connection) + blkdebug.dropConnection(connection);
    }

    /** The export's fault rules and held requests. */
    public FaultEngine faults() {
        return faults;
    }

    public long size() {
        return top.size();
    }

    public boolean isReadOnly() {
        return top.isReadOnly();
    }

    /**
     * Drops the fault rules and fails what they hold, releases requests held at breakpoints, then
     * flushes (without injected faults) and closes the stack.
     */
    @Override
    public void close() throws IOException {
        HistoryWriter history = recorder.stop();
        if (history != null) {
            history.close();
        }
        Materializer m = materializer;
        if (m != null) {
            m.history().close();
        }
        faults.shutdown();
        blkdebug.shutdown();
        try {
            if (!top.isReadOnly() && power.isOn()) {
                top.flush(BlockRequest.flush());
            }
        } finally {
            top.close();
        }
    }
}
