package dev.faultdisk.fault;

import dev.faultdisk.device.Sizes;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Members;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One rule's members as parsed JSON (a map of strings, numbers, booleans, lists and maps), read
 * through {@link Members} with errors that are {@link FaultRuleException}s naming the member by
 * its path ({@code rules[2].probability}). What is added here are a rule's units: ranges, byte
 * counts, milliseconds, errnos and operations; integers may also be written as integral
 * numbers ({@code 4096.0}). Every getter marks its member as used, so {@link #rejectUnused} can
 * refuse members nobody asked for.
 */
public final class RuleParams {
    /** A rule's errors: "rules[0].nth is missing", "... must be an integer", "... must not be null". */
    private static final Members.Errors ERRORS = new Members.Errors() {
        @Override
        public FaultRuleException missing(String name) {
            return new FaultRuleException(name + " is missing");
        }

        @Override
        public FaultRuleException wrongType(String name, Members.Type expected, Object value) {
            return new FaultRuleException(
                    name + (value == null ? " must not be null" : " must be " + expected.withArticle()));
        }

        @Override
        public FaultRuleException unexpected(String name) {
            return new FaultRuleException(name + " is not expected");
        }

        @Override
        public FaultRuleException notAllowed(String name, String value, Collection<String> allowed) {
            return new FaultRuleException(
                    name + " must be one of " + String.join(", ", allowed) + ", got '" + value + "'");
        }
    };

    private final Members members;

    private RuleParams(Members members) {
        this.members = members;
    }

    /** {@code value} must be a JSON object. */
    public static RuleParams of(Object value, String path) {
        return new RuleParams(Members.object(value, path, ERRORS));
    }

    public String path() {
        return members.path();
    }

    public String name(String key) {
        return members.fullName(key);
    }

    public boolean has(String key) {
        return members.has(key);
    }

    public FaultRuleException error(String key, String message) {
        return new FaultRuleException(name(key) + " " + message);
    }

    /** A member that must be present and not null, of any type. */
    private Object get(String key) {
        Object v = members.any(key);
        if (v == null) {
            throw ERRORS.wrongType(name(key), Members.Type.OBJECT, null);
        }
        return v;
    }

    public String string(String key) {
        return members.string(key);
    }

    public String string(String key, String absent) {
        return members.string(key, absent);
    }

    /** One of {@code allowed}. */
    public String choice(String key, String absent, List<String> allowed) {
        return has(key) ? members.choice(key, allowed) : absent;
    }

    public boolean bool(String key, boolean absent) {
        if (!has(key)) {
            return absent;
        }
        Object v = get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n && isIntegral(n) && (n.longValue() == 0 || n.longValue() == 1)) {
            return n.longValue() == 1;
        }
        throw error(key, "must be a boolean");
    }

    /** An integer in [min, max]. */
    public long integer(String key, long absent, long min, long max) {
        if (!has(key)) {
            return absent;
        }
        Object v = get(key);
        if (!(v instanceof Number n) || !isIntegral(n)) {
            throw error(key, "must be an integer");
        }
        return checkRange(key, n, min, max);
    }

    /** A byte count: an integer, or a string with a binary suffix ("4K", "1M"), in [min, max]. */
    public long size(String key, long absent, long min, long max) {
        if (!has(key)) {
            return absent;
        }
        Object v = get(key);
        if (v instanceof String s) {
            long parsed;
            try {
                parsed = Sizes.parse(s);
            } catch (IllegalArgumentException e) {
                throw error(key, "must be a byte count such as 4096 or \"4K\", got '" + s + "'");
            }
            return checkRange(key, parsed, min, max);
        }
        if (!(v instanceof Number n) || !isIntegral(n)) {
            throw error(key, "must be a byte count (an integer or a string such as \"4K\")");
        }
        return checkRange(key, n, min, max);
    }

    /** A number in [min, max]. */
    public double number(String key, double absent, double min, double max) {
        if (!has(key)) {
            return absent;
        }
        if (!(get(key) instanceof Number n)) {
            throw error(key, "must be a number");
        }
        double d = n.doubleValue();
        if (!(d >= min && d <= max)) {
            throw error(key, "must be between " + plain(min) + " and " + plain(max) + ", got " + plain(d));
        }
        return d;
    }

    /** A duration given in milliseconds (fractions allowed), returned in nanoseconds; at most a day. */
    public long millis(String key, long absentNanos) {
        if (!has(key)) {
            return absentNanos;
        }
        double ms = number(key, 0, 0, 86_400_000.0);
        return Math.round(ms * 1_000_000.0);
    }

    /** An errno: a name such as "EIO" or a positive number. */
    public int errno(String key, int absent) {
        if (!has(key)) {
            return absent;
        }
        Object v = get(key);
        if (v instanceof String s) {
            return Errno.byName(s).orElseThrow(() -> error(key, "is not a known errno name: '" + s + "'"));
        }
        return (int) integer(key, absent, 1, 4095);
    }

    /** A list of strings (a single string is a list of one). */
    public List<String> strings(String key) {
        Object v = get(key);
        if (v instanceof String s) {
            return List.of(s);
        }
        if (!(v instanceof List<?> list)) {
            throw error(key, "must be a string or a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                throw new FaultRuleException(name(key) + "[" + i + "] must be a string");
            }
            out.add(s);
        }
        return out;
    }

    /** A nested object as a map, unchecked: for values passed on whole (a command's arguments). */
    public Map<String, Object> map(String key) {
        return members.object(key).asMap();
    }

    /** A list of JSON values of any kind. */
    public List<Object> list(String key) {
        return members.list(key);
    }

    /** A list of integers in [min, max]. */
    public List<Long> integers(String key, long min, long max) {
        if (!(get(key) instanceof List<?> list)) {
            throw error(key, "must be a list of integers");
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Number n) || !isIntegral(n)) {
                throw new FaultRuleException(name(key) + "[" + i + "] must be an integer");
            }
            out.add(checkRange(key + "[" + i + "]", n, min, max));
        }
        return out;
    }

    /** Operations by name; each must be in {@code allowed}; none given means {@code absent}. */
    public Set<BlockOp> ops(String key, Set<BlockOp> absent, Set<BlockOp> allowed, String type) {
        if (!has(key)) {
            return absent;
        }
        Set<BlockOp> ops = EnumSet.noneOf(BlockOp.class);
        for (String name : strings(key)) {
            BlockOp op = BlockOp.byName(name)
                    .orElseThrow(() -> error(
                            key,
                            "names an unknown operation '" + name
                                    + "' (read, write, flush, trim, write-zeroes, block-status)"));
            if (!allowed.contains(op)) {
                throw error(key, "names '" + name + "', but " + type + " applies only to " + BlockOp.names(allowed));
            }
            ops.add(op);
        }
        if (ops.isEmpty()) {
            throw error(key, "must name at least one operation");
        }
        return ops;
    }

    /** A nested object. */
    public RuleParams object(String key) {
        return new RuleParams(members.object(key));
    }

    /** Refuses members no getter asked for. */
    public void rejectUnused(String what) {
        members.unused().ifPresent(key -> {
            Set<String> known = new TreeSet<>(members.used());
            throw error(
                    key,
                    "is not a parameter of " + what
                            + (known.isEmpty() ? "" : " (used here: " + String.join(", ", known) + ")"));
        });
    }

    private long checkRange(String key, Number n, long min, long max) {
        if (n instanceof BigInteger || n instanceof BigDecimal) {
            throw error(key, "is out of range (" + min + " to " + max + ")");
        }
        long v = n.longValue();
        if (v < min || v > max) {
            if (min == 0 && v < 0) {
                throw error(key, "must not be negative, got " + v);
            }
            throw error(key, "must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    private static boolean isIntegral(Number n) {
        return n instanceof Long
                || n instanceof Integer
                || n instanceof Short
                || n instanceof Byte
                || (n instanceof BigInteger)
                || (n instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53);
    }

    private static String plain(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
