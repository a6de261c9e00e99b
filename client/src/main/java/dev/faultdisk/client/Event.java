package dev.faultdisk.client;

import dev.faultdisk.wire.json.JsonConvertible;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An asynchronous QMP event, e.g. {@code BLKDEBUG_SUSPENDED}.
 *
 * @param name      the event's name
 * @param data      its data members (empty when it has none)
 * @param timestamp when the server emitted it
 * @param sequence  the order in which this client received it, from 1
 */
public record Event(String name, Map<String, Object> data, Instant timestamp, long sequence)
        implements JsonConvertible {
    public Event {
        Objects.requireNonNull(name, "name");
        data = data == null ? Map.of() : data;
    }

    /** The data member {@code key} as text, or null if absent. */
    public String string(String key) {
        Object v = data.get(key);
        return v == null ? null : v.toString();
    }

    /** The data member {@code device}, which most block events carry. */
    public String device() {
        return string("device");
    }

    /** The event as the server sent it: {@code {"event": ..., "data": ..., "timestamp": ...}}. */
    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> ts = new LinkedHashMap<>();
        ts.put("seconds", timestamp.getEpochSecond());
        ts.put("microseconds", timestamp.getNano() / 1000);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp", ts);
        m.put("event", name);
        m.put("data", data);
        return m;
    }
}
