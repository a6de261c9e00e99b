package dev.faultdisk.device;

import java.io.IOException;

/**
 * A named device as served to clients: the backend wrapped in the export's decorators. The stack
 * today is {@code CountingDevice -> [ReadOnlyDevice] -> backend}; later layers slot in between.
 */
public final class Export implements AutoCloseable {
    private final String name;
    private final String description;
    private final BlockDevice backend;
    private final BlockDevice top;
    private final DeviceStats stats = new DeviceStats();

    public Export(String name, BlockDevice backend, boolean readOnly) {
        this.name = name;
        this.backend = backend;
        BlockDevice stack = readOnly && !backend.isReadOnly() ? new ReadOnlyDevice(backend) : backend;
        this.top = new CountingDevice(stack, stats);
        this.description = top.describe();
    }

    /** Opens the export a spec describes. */
    public static Export open(ExportSpec spec) throws IOException {
        return new Export(spec.name(), spec.openBackend(), spec.readOnly());
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

    public long size() {
        return top.size();
    }

    public boolean isReadOnly() {
        return top.isReadOnly();
    }

    /** Flushes and closes the stack. */
    @Override
    public void close() throws IOException {
        try {
            if (!top.isReadOnly()) {
                top.flush();
            }
        } finally {
            top.close();
        }
    }
}
