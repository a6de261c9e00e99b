package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An export's operation counters as {@code query-blockstats} returns them.
 *
 * @param device the export's name
 * @param ops    counters by operation: {@code read}, {@code write}, {@code flush}, {@code trim},
 *               {@code write-zeroes}, {@code extents}
 */
public record BlockStats(String device, Map<String, OpStats> ops) {

    /** Counters of one operation. */
    public record OpStats(long operations, long bytes, long errors) {
        public static final OpStats NONE = new OpStats(0, 0, 0);
    }

    /** The counters of {@code op}, or zeros if the server does not count it. */
    public OpStats op(String op) {
        return ops.getOrDefault(op, OpStats.NONE);
    }

    /** Write requests served so far (including failed ones). */
    public long writes() {
        return op("write").operations();
    }

    public long reads() {
        return op("read").operations();
    }

    /** Errors over every operation. */
    public long errors() {
        return ops.values().stream().mapToLong(OpStats::errors).sum();
    }

    static BlockStats from(Object value) {
        Members m = Replies.object(value, "query-blockstats entry");
        Map<String, OpStats> ops = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : m.object("stats").asMap().entrySet()) {
            Members one = Replies.object(e.getValue(), "stats." + e.getKey());
            ops.put(e.getKey(), new OpStats(one.integer("operations"), one.integer("bytes"), one.integer("errors")));
        }
        return new BlockStats(m.string("device"), Collections.unmodifiableMap(ops));
    }
}
