package dev.faultdisk.wire.json;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A parsed JSON object's members read by type: the one way the server reads command arguments
 * and fault rules and the client reads replies. Members are named in errors by their full path
 * ({@code rules[0].event}); what an error says, and which exception carries it, is up to the
 * {@link Errors} given, so QMP keeps QEMU's texts and each other reader its own.
 *
 * <ul>
 * <li>A member present with JSON {@code null} is of the wrong type, not absent.</li>
 * <li>Integers are the JSON integers that fit 64 signed bits; a number with a fraction or exponent
 *     is not one. Booleans also accept the integers 1 and 0.</li>
 * <li>Nested objects and arrays of objects are read with the same {@link Errors}.</li>
 * </ul>
 * Every getter marks its member as used ({@link #unused}). Not thread-safe; the values are not copied
 * deeply, so the map given must not change while read.
 */
public final class Members {
    /** The JSON types a getter expects, with the words errors use for them. */
    public enum Type {
        STRING("a"),
        INTEGER("an"),
        BOOLEAN("a"),
        NUMBER("a"),
        OBJECT("an"),
        ARRAY("an");

        private final String article;

        Type(String article) {
            this.article = article;
        }

        /** "string", "integer"... as QEMU names them. */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** "a string", "an integer"... */
        public String withArticle() {
            return article + " " + word();
        }
    }

    /** Makes the exception for each kind of problem; {@code name} is the member's full path. */
    public interface Errors {
        RuntimeException missing(String name);

        /** {@code value} is what the member holds (null for JSON null). */
        RuntimeException wrongType(String name, Type expected, Object value);

        /** A member no reader knows, see {@link #rejectUnknown}. */
        RuntimeException unexpected(String name);

        /** A string not among those allowed, see {@link #choice}. */
        RuntimeException notAllowed(String name, String value, Collection<String> allowed);
    }

    private final Map<String, Object> values;
    private final String path;
    private final Errors errors;
    private final Set<String> used = new LinkedHashSet<>();

    private Members(Map<String, Object> values, String path, Errors errors) {
        this.values = Collections.unmodifiableMap(values);
        this.path = path;
        this.errors = errors;
    }

    /** The members of an object at {@code path} ("" at the top). */
    public static Members of(Map<String, ?> values, String path, Errors errors) {
        return new Members(new LinkedHashMap<>(values), path, errors);
    }

    /** {@code value} must be an object; it is named {@code path} if it is not. */
    public static Members object(Object value, String path, Errors errors) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), v));
            return new Members(copy, path, errors);
        }
        throw errors.wrongType(path, Type.OBJECT, value);
    }

    /** Where this object sits ("" at the top, {@code rules[2]} inside). */
    public String path() {
        return path;
    }

    /** The full name of a member, as errors print it. */
    public String fullName(String member) {
        return path.isEmpty() ? member : path + "." + member;
    }

    public Errors errors() {
        return errors;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public Set<String> names() {
        return values.keySet();
    }

    /** The raw values (unmodifiable, in document order). */
    public Map<String, Object> asMap() {
        return values;
    }

    /** The raw value of a required member, of any type (null for JSON null). */
    public Object any(String name) {
        used.add(name);
        if (!values.containsKey(name)) {
            throw errors.missing(fullName(name));
        }
        return values.get(name);
    }

    public String string(String name) {
        return string(fullName(name), any(name), errors);
    }

    public String string(String name, String absent) {
        return has(name) ? string(name) : absent;
    }

    /** A string that must be one of {@code allowed}. */
    public String choice(String name, Collection<String> allowed) {
        String value = string(name);
        if (!allowed.contains(value)) {
            throw errors.notAllowed(fullName(name), value, allowed);
        }
        return value;
    }

    /** A signed 64-bit integer. */
    public long integer(String name) {
        return integer(fullName(name), any(name), errors);
    }

    public long integer(String name, long absent) {
        return has(name) ? integer(name) : absent;
    }

    /** A boolean; the integers 1 and 0 are accepted too. */
    public boolean bool(String name) {
        Object value = any(name);
        if (value instanceof Boolean b) {
            return b;
        }
        if ((value instanceof Long || value instanceof Integer) && (((Number) value).longValue() & ~1L) == 0) {
            return ((Number) value).longValue() == 1;
        }
        throw errors.wrongType(fullName(name), Type.BOOLEAN, value);
    }

    public boolean bool(String name, boolean absent) {
        return has(name) ? bool(name) : absent;
    }

    /** Any JSON number. */
    public double number(String name) {
        if (any(name) instanceof Number n) {
            return n.doubleValue();
        }
        throw errors.wrongType(fullName(name), Type.NUMBER, values.get(name));
    }

    public double number(String name, double absent) {
        return has(name) ? number(name) : absent;
    }

    /** A nested object. */
    public Members object(String name) {
        return object(any(name), fullName(name), errors);
    }

    /** An array of any values (unmodifiable). */
    public List<Object> list(String name) {
        if (any(name) instanceof List<?> list) {
            return Collections.unmodifiableList(list);
        }
        throw errors.wrongType(fullName(name), Type.ARRAY, values.get(name));
    }

    /** An array whose elements are all objects, each named {@code name[i]} in errors. */
    public List<Members> objects(String name) {
        return elements(name, (element, value, errors) -> object(value, element, errors));
    }

    /** An array whose elements are all strings, each named {@code name[i]} in errors. */
    public List<String> strings(String name) {
        return elements(name, Members::string);
    }

    /** An array whose elements are all integers, each named {@code name[i]} in errors. */
    public List<Long> integers(String name) {
        return elements(name, Members::integer);
    }

    /** Reads one array element, named {@code name}, with {@code errors}. */
    private interface ElementReader<T> {
        T read(String name, Object value, Errors errors);
    }

    private <T> List<T> elements(String name, ElementReader<T> reader) {
        List<Object> list = list(name);
        String base = fullName(name);
        List<T> result = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            result.add(reader.read(base + "[" + i + "]", list.get(i), errors));
        }
        return result;
    }

    /** Fails with {@link Errors#unexpected} for the first member not in {@code known}. */
    public void rejectUnknown(Collection<String> known) {
        for (String name : values.keySet()) {
            if (!known.contains(name)) {
                throw errors.unexpected(fullName(name));
            }
        }
    }

    public void rejectUnknown(String... known) {
        rejectUnknown(Arrays.asList(known));
    }

    /** The first member no getter asked for, if any. */
    public Optional<String> unused() {
        return values.keySet().stream().filter(name -> !used.contains(name)).findFirst();
    }

    /** The members getters asked for, in the order they asked. */
    public Set<String> used() {
        return Collections.unmodifiableSet(used);
    }

    /** {@code value}, named {@code name}, as a string. */
    public static String string(String name, Object value, Errors errors) {
        if (value instanceof String s) {
            return s;
        }
        throw errors.wrongType(name, Type.STRING, value);
    }

    /** {@code value}, named {@code name}, as a signed 64-bit integer. */
    public static long integer(String name, Object value, Errors errors) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger big && big.bitLength() < 64) {
            return big.longValue();
        }
        throw errors.wrongType(name, Type.INTEGER, value);
    }

    @Override
    public String toString() {
        return (path.isEmpty() ? "members" : path) + values;
    }
}
