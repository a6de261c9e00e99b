package dev.faultdisk.client;

import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonConvertible;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A blkdebug rule for {@code blkdebug-set-rules}, built fluently and immutable: every method
 * returns a new rule.
 *
 * <pre>{@code
 * BlkdebugRule.injectError("write_aio").errno(Errno.ENOSPC).once()
 * BlkdebugRule.injectError("read_aio").state(2).sector(8).immediately()
 * BlkdebugRule.setState("write_aio", 1, 2)
 * }</pre>
 *
 * Members left unset take the server's defaults (QEMU's): state 0 (any), errno 5 (EIO), sector
 * -1 (any), once and immediately false, every iotype but block-status.
 */
public final class BlkdebugRule implements JsonConvertible {
    /** {@code inject-error} or {@code set-state}. */
    private final String type;

    private final Map<String, Object> members;

    private BlkdebugRule(String type, Map<String, Object> members) {
        this.type = type;
        this.members = members;
    }

    /** A rule that fails requests reaching {@code event} (e.g. {@code write_aio}, {@code flush_to_disk}). */
    public static BlkdebugRule injectError(String event) {
        return new BlkdebugRule("inject-error", Map.of("event", Objects.requireNonNull(event, "event")));
    }

    /** A rule that moves the state machine to {@code newState} when {@code event} fires in any state. */
    public static BlkdebugRule setState(String event, int newState) {
        return new BlkdebugRule("set-state", Map.of("event", Objects.requireNonNull(event, "event")))
                .with("new_state", newState);
    }

    /** A rule that moves the state machine from {@code state} to {@code newState} when {@code event} fires. */
    public static BlkdebugRule setState(String event, int state, int newState) {
        return setState(event, newState).state(state);
    }

    /**
     * A rule from its JSON form, as {@code query-blkdebug-rules} lists it or a scenario file holds
     * it. Members are kept as given; the server checks them.
     */
    public static BlkdebugRule fromJson(Map<String, ?> json) {
        if (!(json.get("type") instanceof String t) || !(t.equals("inject-error") || t.equals("set-state"))) {
            throw new IllegalArgumentException(
                    "a rule needs \"type\": \"inject-error\" or \"set-state\": " + Json.write(json));
        }
        Map<String, Object> m = new LinkedHashMap<>(json);
        m.remove("type");
        if (!(m.get("event") instanceof String)) {
            throw new IllegalArgumentException("a rule needs an \"event\": " + Json.write(json));
        }
        if (m.containsValue(null)) {
            throw new IllegalArgumentException("a rule's members may not be null: " + Json.write(json));
        }
        return new BlkdebugRule(t, Map.copyOf(m));
    }

    /** Only while the state machine is in {@code state} (0: any state). */
    public BlkdebugRule state(int state) {
        return with("state", state);
    }

    /** The errno the failed request gets (default EIO). */
    public BlkdebugRule errno(int errno) {
        return injectOnly("errno").with("errno", errno);
    }

    /** The errno by name, e.g. {@code "ENOSPC"}. */
    public BlkdebugRule errno(String name) {
        return errno(Errno.parse(name));
    }

    /** Only requests touching this 512-byte sector. */
    public BlkdebugRule sector(long sector) {
        return injectOnly("sector").with("sector", sector);
    }

    /** Fires once, then the rule is gone. */
    public BlkdebugRule once() {
        return injectOnly("once").with("once", true);
    }

    /** Fails the request at the event itself instead of the next I/O after it (QEMU's immediately). */
    public BlkdebugRule immediately() {
        return injectOnly("immediately").with("immediately", true);
    }

    /**
     * Only these kinds of request: {@code read}, {@code write}, {@code write-zeroes},
     * {@code discard}, {@code flush}, {@code block-status}.
     */
    public BlkdebugRule iotype(String... iotypes) {
        return injectOnly("iotype").with("iotype", List.of(iotypes));
    }

    /** Any other member, for options this class does not know yet. */
    public BlkdebugRule with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(members);
        Objects.requireNonNull(value, "value");
        // Integers are kept as Long, as parsed JSON holds them, so equal rules compare equal.
        m.put(
                Objects.requireNonNull(key, "key"),
                value instanceof Integer || value instanceof Short || value instanceof Byte
                        ? (Object) ((Number) value).longValue()
                        : value);
        return new BlkdebugRule(type, Map.copyOf(m));
    }

    public String type() {
        return type;
    }

    public String event() {
        return (String) members.get("event");
    }

    /** The member {@code key}, or null. */
    public Object get(String key) {
        return members.get(key);
    }

    private BlkdebugRule injectOnly(String what) {
        if (!type.equals("inject-error")) {
            throw new IllegalStateException(what + " applies to inject-error rules only");
        }
        return this;
    }

    /** {@code {"type": ..., "event": ..., ...}}: type and event first, then the rest sorted. */
    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("event", members.get("event"));
        List<String> keys = new ArrayList<>(members.keySet());
        keys.sort(null);
        for (String k : keys) {
            m.putIfAbsent(k, members.get(k));
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlkdebugRule r && r.type.equals(type) && r.members.equals(members);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + members.hashCode();
    }

    @Override
    public String toString() {
        return Json.write(this);
    }
}
