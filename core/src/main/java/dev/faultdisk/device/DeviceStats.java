package dev.faultdisk.device;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Per-export operation counters, updated by {@link CountingDevice}; cheap under contention. */
public final class DeviceStats {

    /** The operations counted. */
    public enum Op { READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, EXTENTS }

    private final EnumMap<Op, LongAdder> ops = new EnumMap<>(Op.class);
    private final EnumMap<Op, LongAdder> bytes = new EnumMap<>(Op.class);
    private final EnumMap<Op, LongAdder> errors = new EnumMap<>(Op.class);

    public DeviceStats() {
        for (Op op : Op.values()) {
            ops.put(op, new LongAdder());
            bytes.put(op, new LongAdder());
            errors.put(op, new LongAdder());
        }
    }

    void record(Op op, long length, boolean failed) {
        ops.get(op).increment();
        if (failed) {
            errors.get(op).increment();
        } else {
            bytes.get(op).add(length);
        }
    }

    public long ops(Op op) {
        return ops.get(op).sum();
    }

    public long bytes(Op op) {
        return bytes.get(op).sum();
    }

    public long errors(Op op) {
        return errors.get(op).sum();
    }

    /** A snapshot: operation name to {ops, bytes, errors}. */
    public Map<String, long[]> snapshot() {
        Map<String, long[]> out = new java.util.LinkedHashMap<>();
        for (Op op : Op.values()) {
            out.put(op.name().toLowerCase(java.util.Locale.ROOT), new long[] {ops(op), bytes(op), errors(op)});
        }
        return out;
    }
}
