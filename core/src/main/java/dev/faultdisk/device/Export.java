package dev.faultdisk.device;

import dev.faultdisk.fault.blkdebug.BlkdebugConfig;
import dev.faultdisk.fault.blkdebug.BlkdebugDevice;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.fault.blkdebug.Rule;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A named device as served to clients: the backend wrapped in the export's decorators. The stack
 * is {@code CountingDevice -> BlkdebugDevice -> [ReadOnlyDevice] -> backend}; later layers slot
 * in between. Every export has a blkdebug engine, idle until it is given rules or breakpoints.
 */
public final class Export implements AutoCloseable {
    private final String name;
    private final String description;
    private final BlockDevice backend;
    private final BlockDevice top;
    private final DeviceStats stats = new DeviceStats();
    private final BlkdebugEngine blkdebug;

    public Export(String name, BlockDevice backend, boolean readOnly) {
        this(name, backend, readOnly, new BlkdebugEngine());
    }

    public Export(String name, BlockDevice backend, boolean readOnly, BlkdebugEngine blkdebug) {
        this.name = name;
        this.backend = backend;
        this.blkdebug = blkdebug;
        BlockDevice stack = readOnly && !backend.isReadOnly() ? new ReadOnlyDevice(backend) : backend;
        this.top = new CountingDevice(new BlkdebugDevice(stack, blkdebug), stats);
        this.description = top.describe();
    }

    /** Opens the export a spec describes, with the blkdebug rules of its rule files. */
    public static Export open(ExportSpec spec) throws IOException {
        List<Rule> rules = new ArrayList<>();
        for (Path file : spec.ruleFiles()) {
            rules.addAll(BlkdebugConfig.load(file));
        }
        BlkdebugEngine engine = new BlkdebugEngine(rules);
        return new Export(spec.name(), spec.openBackend(), spec.readOnly(), engine);
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

    public long size() {
        return top.size();
    }

    public boolean isReadOnly() {
        return top.isReadOnly();
    }

    /** Releases requests held at breakpoints, then flushes (without injected faults) and closes the stack. */
    @Override
    public void close() throws IOException {
        blkdebug.shutdown();
        try {
            if (!top.isReadOnly()) {
                top.flush();
            }
        } finally {
            top.close();
        }
    }
}
