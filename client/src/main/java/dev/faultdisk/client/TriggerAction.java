package dev.faultdisk.client;

import dev.faultdisk.wire.json.JsonConvertible;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a trigger does when it fires (docs/TRIGGERS.md): a control command, or an action on the
 * request that fired it.
 */
public final class TriggerAction implements JsonConvertible {
    private final Map<String, Object> members;

    private TriggerAction(Map<String, Object> members) {
        this.members = members;
    }

    /** Runs a control command, e.g. {@code execute("power-fail", FaultdiskClient.args("device", "disk1"))}. */
    public static TriggerAction execute(String command, Map<String, ?> arguments) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("execute", command);
        if (arguments != null && !arguments.isEmpty()) {
            m.put("arguments", new LinkedHashMap<>(arguments));
        }
        return new TriggerAction(m);
    }

    /** Holds the request until released (fault-release). */
    public static TriggerAction hold() {
        return request("hold");
    }

    /** Holds the request until released, or until {@code timeout} has passed, when it runs. */
    public static TriggerAction hold(Duration timeout) {
        return request("hold").with("timeout-ms", timeout.toMillis());
    }

    public static TriggerAction delay(Duration delay) {
        return request("delay").with("ms", delay.toNanos() / 1e6);
    }

    /** Fails the request with an errno name (e.g. "EIO") or number. */
    public static TriggerAction fail(Object errno) {
        return request("fail").with("errno", errno);
    }

    /** Only the first {@code keepSectors} 512-byte sectors of a write land; then it fails with EIO. */
    public static TriggerAction tear(long keepSectors) {
        return request("tear").with("keep-sectors", keepSectors);
    }

    /** Only the first {@code keepSectors} sectors land, and the write reports success. */
    public static TriggerAction tearSilently(long keepSectors) {
        return tear(keepSectors).with("silent", true);
    }

    /** A write, trim or write-zeroes is acknowledged and nothing is stored. */
    public static TriggerAction lose() {
        return request("lose");
    }

    private static TriggerAction request(String action) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", action);
        return new TriggerAction(m);
    }

    /** Any other member. */
    public TriggerAction with(String name, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(members);
        m.put(name, value);
        return new TriggerAction(m);
    }

    @Override
    public Object toJson() {
        return members;
    }
}
