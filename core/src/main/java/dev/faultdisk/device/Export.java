package dev.faultdisk.device;

import dev.faultdisk.cache.PowerFailReport;
import dev.faultdisk.cache.PowerGate;
import dev.faultdisk.cache.WriteCacheDevice;
import dev.faultdisk.fault.FaultDevice;
import dev.faultdisk.fault.FaultEngine;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugConfig;
import dev.faultdisk.fault.blkdebug.BlkdebugDevice;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.fault.blkdebug.Rule;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A named device as served to clients: the backend wrapped in the export's decorators. The stack
 * is {@code CountingDevice -> PowerGate -> FaultDevice -> BlkdebugDevice -> [ReadOnlyDevice] ->
 * WriteCacheDevice -> backend}; later layers slot in between. Every export has a fault engine and
 * a blkdebug engine, each idle until it is given rules (or breakpoints), and a write cache
 * (writethrough unless asked otherwise) with a power switch. Fault layers sit between the gate and
 * the cache, so a request they hold across a power failure is refused instead of landing after
 * the cut. The fault layer sits above blkdebug: a request it holds, delays or fails never reaches
 * blkdebug's events, and blkdebug sees a write where the fault layer sends it (misdirected, torn,
 * corrupted).
 */
public final class Export implements AutoCloseable {
    private final String name;
    private final String description;
    private final BlockDevice backend;
    private final BlockDevice top;
    private final DeviceStats stats = new DeviceStats();
    private final BlkdebugEngine blkdebug;
    private final WriteCacheDevice cache;
    private final FaultEngine faults;

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
    public Export(String name, BlockDevice backend, boolean readOnly, BlkdebugEngine blkdebug, CacheMode cacheMode,
                  FaultTime faultTime, long faultSeed) {
        this.name = name;
        this.backend = backend;
        this.blkdebug = blkdebug;
        this.cache = new WriteCacheDevice(backend, cacheMode);
        this.faults = new FaultEngine(name, backend.size(), faultTime, faultSeed);
        BlockDevice stack = readOnly && !backend.isReadOnly() ? new ReadOnlyDevice(cache) : cache;
        BlockDevice faulty = new FaultDevice(new BlkdebugDevice(stack, blkdebug), faults);
        this.top = new CountingDevice(new PowerGate(faulty, cache), stats);
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

    public DeviceStats stats() {
        return stats;
    }

    /** The export's blkdebug rule engine: rules, state, breakpoints. */
    public BlkdebugEngine blkdebug() {
        return blkdebug;
    }

    /** The export's write cache: its mode, dirty data, deferred errors and power switch. */
    public WriteCacheDevice writeCache() {
        return cache;
    }

    /** Cuts the power and restores it; see {@link WriteCacheDevice#powerFail}. */
    public PowerFailReport powerFail(PowerFailMode mode, long seed) {
        return cache.powerFail(mode, seed);
    }

    /** Runs {@code listener} after every power cut, e.g. to drop the export's connections. */
    public void onPowerFail(Runnable listener) {
        cache.onPowerFail(listener);
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
        faults.shutdown();
        blkdebug.shutdown();
        try {
            if (!top.isReadOnly() && cache.isPoweredOn()) {
                top.flush();
            }
        } finally {
            top.close();
        }
    }
}
