package dev.faultdisk.client;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.JsonConvertible;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trigger's condition (docs/TRIGGERS.md), built fluently and immutable: every method returns a
 * new condition. It only assembles JSON; the server checks it.
 *
 * <pre>{@code
 * TriggerCondition.requests("disk0", BlockOp.WRITE).after(20)              // the 21st write on disk0
 * TriggerCondition.sequence(TriggerCondition.requests("disk0", BlockOp.FLUSH).nth(3),
 *                           TriggerCondition.requests("disk0", BlockOp.WRITE)) // the first write after the 3rd flush
 * TriggerCondition.event("power-cut", "disk0")
 * }</pre>
 */
public final class TriggerCondition implements JsonConvertible {
    private final Map<String, Object> members;

    private TriggerCondition(Map<String, Object> members) {
        this.members = members;
    }

    /** Requests on {@code device} (null: any export) with one of {@code ops} (none: all). */
    public static TriggerCondition requests(String device, BlockOp... ops) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (device != null) {
            m.put("device", device);
        }
        if (ops.length > 0) {
            m.put("ops", Arrays.stream(ops).map(BlockOp::wireName).toList());
        }
        return new TriggerCondition(m);
    }

    /**
     * An event on {@code device} (null: any export): blkdebug-event, fault-fired, breakpoint-hit,
     * flush-done or power-cut; narrow it with {@link #with} ("name", "rule", "tag").
     */
    public static TriggerCondition event(String kind, String device) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", kind);
        if (device != null) {
            m.put("device", device);
        }
        return new TriggerCondition(m);
    }

    /** Every part satisfied, in any order. */
    public static TriggerCondition allOf(TriggerCondition... parts) {
        return new TriggerCondition(Map.of("all-of", List.of(parts)));
    }

    /** Any part satisfied. */
    public static TriggerCondition anyOf(TriggerCondition... parts) {
        return new TriggerCondition(Map.of("any-of", List.of(parts)));
    }

    /** The parts one after another: a step counts from when the step before it was satisfied. */
    public static TriggerCondition sequence(TriggerCondition... steps) {
        return new TriggerCondition(Map.of("sequence", List.of(steps)));
    }

    /** Only the nth match (1-based). */
    public TriggerCondition nth(long n) {
        return with("nth", n);
    }

    /** Every match after the first {@code n}: {@code after(20)} is satisfied first at the 21st. */
    public TriggerCondition after(long n) {
        return with("after", n);
    }

    /** Every {@code n}th match. */
    public TriggerCondition every(long n) {
        return with("every", n);
    }

    /** Only requests overlapping this byte range. */
    public TriggerCondition range(long offset, long length) {
        return with("offset", offset).with("length", length);
    }

    /** Only requests touching this file's blocks (see {@link FaultRule#file(String)}). */
    public TriggerCondition file(String path) {
        return with("file", path);
    }

    /** Only requests from this NBD connection. */
    public TriggerCondition connection(long id) {
        return with("connection", id);
    }

    /** Any other member. */
    public TriggerCondition with(String name, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(members);
        m.put(name, value);
        return new TriggerCondition(m);
    }

    @Override
    public Object toJson() {
        return members;
    }

    @Override
    public String toString() {
        return dev.faultdisk.wire.json.Json.write(this);
    }
}
