package dev.faultdisk.qmp;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command's arguments (or a nested object inside them) with typed access. Every getter throws
 * a {@link QmpError} worded as QEMU words it, naming the parameter by its full path, e.g.
 * {@code rules[0].event}:
 * <ul>
 * <li>absent and required: "Parameter 'X' is missing";</li>
 * <li>wrong type: "Invalid parameter type for 'X', expected: TYPE";</li>
 * <li>not declared: "Parameter 'X' is unexpected" ({@link #rejectUnknown}).</li>
 * </ul>
 * A member present with JSON {@code null} is a wrong type, not an absent member, as in QEMU.
 * Booleans also accept the integers 1 and 0. Instances are immutable.
 */
public final class Arguments {
    private final Map<String, Object> values;
    private final String path;
    private final QmpSession session;

    Arguments(Map<String, Object> values, String path, QmpSession session) {
        this.values = Collections.unmodifiableMap(values);
        this.path = path;
        this.session = session;
    }

    /** Top-level arguments outside any session (tests, in-process callers). */
    public static Arguments of(Map<String, ?> values) {
        return new Arguments(new LinkedHashMap<>(values), "", null);
    }

    /** The session that sent the command, or null for an in-process call. */
    public QmpSession session() {
        return session;
    }

    /** Where this object sits in the arguments ("" at the top, {@code rules[2]} inside). */
    public String path() {
        return path;
    }

    /** The full name of a member, as error messages print it. */
    public String fullName(String member) {
        return path.isEmpty() ? member : path + "." + member;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public Set<String> names() {
        return values.keySet();
    }

    /** The raw values (unmodifiable, insertion ordered). */
    public Map<String, Object> asMap() {
        return values;
    }

    /** The raw value of a required member, of any type. */
    public Object any(String name) {
        return require(name);
    }

    public String string(String name) {
        return asString(fullName(name), require(name));
    }

    public String string(String name, String absent) {
        return has(name) ? string(name) : absent;
    }

    /** A signed 64-bit integer (a number with a fraction or exponent is not one). */
    public long integer(String name) {
        return asInteger(fullName(name), require(name));
    }

    public long integer(String name, long absent) {
        return has(name) ? integer(name) : absent;
    }

    /** A boolean; the integers 1 and 0 are accepted too. */
    public boolean bool(String name) {
        return asBool(fullName(name), require(name));
    }

    public boolean bool(String name, boolean absent) {
        return has(name) ? bool(name) : absent;
    }

    /** Any JSON number. */
    public double number(String name) {
        Object value = require(name);
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw QmpError.invalidParameterType(fullName(name), "number");
    }

    public double number(String name, double absent) {
        return has(name) ? number(name) : absent;
    }

    /** A string that must be one of {@code allowed}. */
    public String enumValue(String name, Collection<String> allowed) {
        String value = string(name);
        if (!allowed.contains(value)) {
            throw QmpError.invalidEnumValue(fullName(name), value);
        }
        return value;
    }

    /** A nested object. */
    public Arguments object(String name) {
        return asObject(fullName(name), require(name));
    }

    /** An array of any values. */
    public List<Object> list(String name) {
        Object value = require(name);
        if (value instanceof List<?> list) {
            return Collections.unmodifiableList(list);
        }
        throw QmpError.invalidParameterType(fullName(name), "array");
    }

    /** An array whose elements are all objects, each named {@code name[i]} in errors. */
    public List<Arguments> objects(String name) {
        List<Object> list = list(name);
        String base = fullName(name);
        List<Arguments> result = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            result.add(asObject(base + "[" + i + "]", list.get(i)));
        }
        return result;
    }

    /** An array whose elements are all strings. */
    public List<String> strings(String name) {
        List<Object> list = list(name);
        String base = fullName(name);
        List<String> result = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            result.add(asString(base + "[" + i + "]", list.get(i)));
        }
        return result;
    }

    /** Fails with "Parameter 'X' is unexpected" for the first member not in {@code known}. */
    public void rejectUnknown(Collection<String> known) {
        for (String name : values.keySet()) {
            if (!known.contains(name)) {
                throw QmpError.unexpectedParameter(fullName(name));
            }
        }
    }

    public void rejectUnknown(String... known) {
        rejectUnknown(Arrays.asList(known));
    }

    private Object require(String name) {
        if (!values.containsKey(name)) {
            throw QmpError.missingParameter(fullName(name));
        }
        return values.get(name);
    }

    private Arguments asObject(String fullName, Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                copy.put(String.valueOf(e.getKey()), e.getValue());
            }
            return new Arguments(copy, fullName, session);
        }
        throw QmpError.invalidParameterType(fullName, "object");
    }

    static String asString(String fullName, Object value) {
        if (value instanceof String s) {
            return s;
        }
        throw QmpError.invalidParameterType(fullName, "string");
    }

    static long asInteger(String fullName, Object value) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger big && big.bitLength() < 64) {
            return big.longValue();
        }
        throw QmpError.invalidParameterType(fullName, "integer");
    }

    static boolean asBool(String fullName, Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        if (value instanceof Long || value instanceof Integer) {
            long n = ((Number) value).longValue();
            if (n == 0 || n == 1) {
                return n == 1;
            }
        }
        throw QmpError.invalidParameterType(fullName, "boolean");
    }

    @Override
    public String toString() {
        return (path.isEmpty() ? "arguments" : path) + values;
    }
}
