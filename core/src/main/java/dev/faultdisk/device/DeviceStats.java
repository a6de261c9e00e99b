package dev.faultdisk.device;

import dev.faultdisk.wire.BlockOp;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Per-export operation counters, updated by {@link CountingDevice}; cheap under contention. */
public final class DeviceStats {
    private final EnumMap<BlockOp, LongAdder> ops = new EnumMap<>(BlockOp.class);
    private final EnumMap<BlockOp, LongAdder> bytes = new EnumMap<>(BlockOp.class);
    private final EnumMap<BlockOp, LongAdder> errors = new EnumMap<>(BlockOp.class);
    /** Failures by operation and errno: touched only when a request fails, so a map is cheap enough. */
    private final EnumMap<BlockOp, ConcurrentHashMap<Integer, LongAdder>> errnos = new EnumMap<>(BlockOp.class);

    public DeviceStats() {
        for (BlockOp op : BlockOp.values()) {
            ops.put(op, new LongAdder());
            bytes.put(op, new LongAdder());
            errors.put(op, new LongAdder());
            errnos.put(op, new ConcurrentHashMap<>());
        }
    }

    /**
     * The name statistics give {@code op} ({@code query-blockstats}): the wire name, except that
     * block status is counted as {@code extents}, as it always was.
     */
    public static String statName(BlockOp op) {
        return op == BlockOp.BLOCK_STATUS ? "extents" : op.wireName();
    }

    void record(BlockOp op, long length, boolean failed) {
        ops.get(op).increment();
        if (failed) {
            errors.get(op).increment();
        } else {
            bytes.get(op).add(length);
        }
    }

    /** A failure with a known errno, counted besides {@link #record} (which counts every failure). */
    void recordErrno(BlockOp op, int errno) {
        errnos.get(op).computeIfAbsent(errno, e -> new LongAdder()).increment();
    }

    /**
     * Failures of {@code op} by errno, in errno order; failures with no errno (a bug below, a
     * dropped connection) are in {@link #errors} only.
     */
    public Map<Integer, Long> errorsByErrno(BlockOp op) {
        Map<Integer, Long> out = new TreeMap<>();
        errnos.get(op).forEach((errno, count) -> out.put(errno, count.sum()));
        return out;
    }

    public long ops(BlockOp op) {
        return ops.get(op).sum();
    }

    public long bytes(BlockOp op) {
        return bytes.get(op).sum();
    }

    public long errors(BlockOp op) {
        return errors.get(op).sum();
    }

    /** Zeroes every counter (a reset). */
    public void reset() {
        for (BlockOp op : BlockOp.values()) {
            ops.get(op).reset();
            bytes.get(op).reset();
            errors.get(op).reset();
            errnos.get(op).clear();
        }
    }

    /** A snapshot: {@link #statName} to {ops, bytes, errors}. */
    public Map<String, long[]> snapshot() {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (BlockOp op : BlockOp.values()) {
            out.put(statName(op), new long[] {ops(op), bytes(op), errors(op)});
        }
        return out;
    }
}
