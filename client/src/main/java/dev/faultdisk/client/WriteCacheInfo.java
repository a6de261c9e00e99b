package dev.faultdisk.client;

import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.json.Members;
import java.time.Duration;
import java.util.Map;

/**
 * An export's write cache as {@code query-write-cache} describes it.
 *
 * @param poweredOn          false only while a power failure is being carried out
 * @param dirtyBytes         bytes acknowledged and not yet durable
 * @param dirtyRanges        maximal contiguous dirty ranges
 * @param dirtyWrites        writes with dirty data
 * @param oldestDirtyAge     age of the oldest dirty write
 * @param deferredErrorArmed whether write-cache-arm-flush-error is pending
 * @param raw                the whole reply, for counters not typed here
 */
public record WriteCacheInfo(
        String device,
        CacheMode mode,
        boolean poweredOn,
        long dirtyBytes,
        long dirtyRanges,
        long dirtyWrites,
        Duration oldestDirtyAge,
        boolean deferredErrorArmed,
        Map<String, Object> raw) {

    /** From the JSON form. */
    public static WriteCacheInfo from(Object value) {
        Members m = Replies.object(value, "query-write-cache reply");
        return new WriteCacheInfo(
                m.string("device"),
                CacheMode.parse(m.string("mode")),
                m.bool("powered-on"),
                m.integer("dirty-bytes"),
                m.integer("dirty-ranges"),
                m.integer("dirty-writes"),
                Duration.ofMillis(m.integer("oldest-dirty-age-ms")),
                m.bool("deferred-error-armed"),
                m.asMap());
    }

    /** A counter of the reply, e.g. {@code flushes}, {@code power-fails}; 0 if absent. */
    public long counter(String name) {
        return raw.get(name) instanceof Long l ? l : 0;
    }
}
