package dev.faultdisk.client;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonConvertible;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A fault rule for {@code fault-add}, built fluently and immutable: every method returns a new
 * rule. It only assembles the JSON object docs/faults/ describes; the server checks it.
 *
 * <pre>{@code
 * FaultRule.error(Errno.EIO).ops(BlockOp.WRITE).range(0, 4096).times(1)
 * FaultRule.delay().ops("read").fixedMs(1)
 * FaultRule.delay().lognormalMs(20, 200).probability(0.5).seed(7)
 * FaultRule.hang().ops("read").timeoutMs(5000)
 * }</pre>
 *
 * Members left unset take the server's defaults (e.g. each type's default operations, the whole
 * export, every matching request, a seed derived from the server's).
 */
public final class FaultRule implements JsonConvertible {
    private final Map<String, Object> members;

    private FaultRule(Map<String, Object> members) {
        this.members = members;
    }

    /** A rule of any type (e.g. {@code "lost-write"}); add its parameters with {@link #with}. */
    public static FaultRule of(String type) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", Objects.requireNonNull(type, "type"));
        return new FaultRule(m);
    }

    /** A rule from its JSON form, as {@code query-faults} lists it or a file holds it. */
    public static FaultRule fromJson(Map<String, ?> json) {
        if (!(json.get("type") instanceof String)) {
            throw new IllegalArgumentException("a fault rule needs a \"type\": " + Json.write(json));
        }
        return new FaultRule(new LinkedHashMap<>(json));
    }

    /** Requests fail with EIO. */
    public static FaultRule error() {
        return of("error");
    }

    /** Requests fail with this errno (e.g. {@link Errno#ENOSPC}). */
    public static FaultRule error(int errno) {
        return error().errno(errno);
    }

    /** Requests fail with this errno by name, e.g. {@code "ENOSPC"}. */
    public static FaultRule error(String errno) {
        return error().errno(errno);
    }

    /** Replies come late; choose the distribution with {@link #fixedMs} and the like. */
    public static FaultRule delay() {
        return of("delay");
    }

    /** Byte and operation rates are capped ({@link #bytesPerSecond}, {@link #opsPerSecond}). */
    public static FaultRule throttle() {
        return of("throttle");
    }

    /** Requests are held until released ({@code fault-release}), removed or timed out. */
    public static FaultRule hang() {
        return of("hang");
    }

    /** Data is corrupted: {@code flip} (bits), {@code zero} or {@code garbage} (bytes). */
    public static FaultRule corrupt(String mode) {
        return of("corrupt").with("mode", mode);
    }

    /** Reads of bad sectors fail until rewritten whole. */
    public static FaultRule badSector(long... sectors) {
        FaultRule r = of("bad-sector");
        return sectors.length == 0
                ? r
                : r.with("sectors", java.util.Arrays.stream(sectors).boxed().toList());
    }

    /** Only the first sectors of a write persist. */
    public static FaultRule tornWrite() {
        return of("torn-write");
    }

    /** Writes are acknowledged and never persisted. */
    public static FaultRule lostWrite() {
        return of("lost-write");
    }

    /** Writes land at another offset ({@link #with} {@code target} or {@code shift}). */
    public static FaultRule misdirectedWrite() {
        return of("misdirected-write");
    }

    /** The connection drops before the reply. */
    public static FaultRule disconnect() {
        return of("disconnect");
    }

    // ---- targeting, shared by every type

    /** Operations by wire name: read, write, flush, trim, write-zeroes, block-status. */
    public FaultRule ops(String... ops) {
        return with("ops", List.of(ops));
    }

    /** Operations, e.g. {@code ops(BlockOp.WRITE, BlockOp.FLUSH)}. */
    public FaultRule ops(BlockOp... ops) {
        return with("ops", Arrays.stream(ops).map(BlockOp::wireName).toList());
    }

    /** Only requests overlapping these bytes. */
    public FaultRule range(long offset, long length) {
        return with("offset", offset).with("length", length);
    }

    /**
     * Only requests touching this file's blocks (absolute, or relative to the mount point given to
     * file-map-attach), resolved by the server when the rule is added and on file-map-refresh.
     */
    public FaultRule file(String path) {
        return with("file", path);
    }

    /** Only requests touching these bytes of this file. */
    public FaultRule file(String path, long fileOffset, long fileLength) {
        return with("file", path).with("file-offset", fileOffset).with("file-length", fileLength);
    }

    /** The chance (0 to 1) that a matching request is chosen. */
    public FaultRule probability(double p) {
        return with("probability", p);
    }

    /** The rule's seed. */
    public FaultRule seed(long seed) {
        return with("seed", seed);
    }

    /** Only the nth matching request (1-based). */
    public FaultRule nth(long n) {
        return with("nth", n);
    }

    /** Skip the first n matching requests. */
    public FaultRule after(long n) {
        return with("after", n);
    }

    /** At most n requests. */
    public FaultRule times(long n) {
        return with("times", n);
    }

    /** The window opens {@code startMs} after the rule is added and lasts {@code durationMs}. */
    public FaultRule window(double startMs, double durationMs) {
        return with("start-ms", startMs).with("duration-ms", durationMs);
    }

    /** The rule expires {@code durationMs} after it is added. */
    public FaultRule expiresAfterMs(double durationMs) {
        return with("duration-ms", durationMs);
    }

    /** Within the window: rest {@code offMs}, act {@code onMs}, repeat. */
    public FaultRule cycle(double offMs, double onMs) {
        return with("cycle-off-ms", offMs).with("cycle-on-ms", onMs);
    }

    /** Only requests from this NBD connection. */
    public FaultRule connection(long id) {
        return with("connection", id);
    }

    /** A name shown in listings and events. */
    public FaultRule label(String label) {
        return with("label", label);
    }

    /** Journal only, no FAULT_INJECTED event per firing. */
    public FaultRule quiet() {
        return with("events", false);
    }

    // ---- type parameters (docs/faults/)

    /** error, hang, bad-sector, torn-write: the errno. */
    public FaultRule errno(int errno) {
        return with("errno", errno);
    }

    public FaultRule errno(String name) {
        return errno(Errno.parse(name));
    }

    /** delay: a fixed delay. */
    public FaultRule fixedMs(double ms) {
        return with("distribution", "fixed").with("ms", ms);
    }

    /** delay: {@code ms ± jitterMs}, uniformly. */
    public FaultRule jitteredMs(double ms, double jitterMs) {
        return fixedMs(ms).with("jitter-ms", jitterMs);
    }

    /** delay: uniformly within [min, max]. */
    public FaultRule uniformMs(double minMs, double maxMs) {
        return with("distribution", "uniform").with("min-ms", minMs).with("max-ms", maxMs);
    }

    /** delay: log-normal with this median and 99th percentile. */
    public FaultRule lognormalMs(double medianMs, double p99Ms) {
        return with("distribution", "lognormal").with("median-ms", medianMs).with("p99-ms", p99Ms);
    }

    /** delay: Pareto from {@code minMs} with this 99th percentile. */
    public FaultRule paretoMs(double minMs, double p99Ms) {
        return with("distribution", "pareto").with("min-ms", minMs).with("p99-ms", p99Ms);
    }

    /** delay: grows from {@code fromMs} to {@code toMs} over {@code overMs}. */
    public FaultRule rampMs(double fromMs, double toMs, double overMs) {
        return with("distribution", "ramp")
                .with("from-ms", fromMs)
                .with("to-ms", toMs)
                .with("over-ms", overMs);
    }

    /** delay: every {@code periodMs} a stall of {@code stallMs}. */
    public FaultRule stallMs(double periodMs, double stallMs) {
        return with("distribution", "stall").with("period-ms", periodMs).with("stall-ms", stallMs);
    }

    /** throttle: a byte rate. */
    public FaultRule bytesPerSecond(long rate) {
        return with("bytes-per-second", rate);
    }

    /** throttle: an operation rate. */
    public FaultRule opsPerSecond(double rate) {
        return with("ops-per-second", rate);
    }

    /** hang: release after this long (then fail, or run with {@code with("on-timeout", "continue")}). */
    public FaultRule timeoutMs(double ms) {
        return with("timeout-ms", ms);
    }

    /** torn-write: sectors that persist. */
    public FaultRule keepSectors(long sectors) {
        return with("keep-sectors", sectors);
    }

    /** misdirected-write: where the data lands. */
    public FaultRule target(long offset) {
        return with("target", offset);
    }

    /** disconnect: send part of the reply, then drop. */
    public FaultRule midReply() {
        return with("mid-reply", true);
    }

    /** Any other member, as docs/faults/ names it (e.g. {@code "sector-size"}, {@code "bits"}). */
    public FaultRule with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(members);
        m.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return new FaultRule(m);
    }

    /** The rule's type. */
    public String type() {
        return (String) members.get("type");
    }

    @Override
    public Map<String, Object> toJson() {
        return new LinkedHashMap<>(members);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FaultRule r && r.members.equals(members);
    }

    @Override
    public int hashCode() {
        return members.hashCode();
    }

    @Override
    public String toString() {
        return Json.write(members);
    }
}
