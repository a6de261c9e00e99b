package dev.faultdisk.client;

import java.util.List;
import java.util.Map;

/** Typed reads from parsed replies; a reply of the wrong shape is a clear error, not a ClassCastException. */
final class Values {
    private Values() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object value, String what) {
        if (value instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw unexpected(what, "an object", value);
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value, String what) {
        if (value instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw unexpected(what, "an array", value);
    }

    static Map<String, Object> object(Map<String, Object> m, String key) {
        return object(m.get(key), key);
    }

    static List<Object> list(Map<String, Object> m, String key) {
        return list(m.get(key), key);
    }

    static String string(Map<String, Object> m, String key) {
        if (m.get(key) instanceof String s) {
            return s;
        }
        throw unexpected(key, "a string", m.get(key));
    }

    static String string(Map<String, Object> m, String key, String absent) {
        return m.containsKey(key) ? string(m, key) : absent;
    }

    static long integer(Map<String, Object> m, String key) {
        if (m.get(key) instanceof Long l) {
            return l;
        }
        throw unexpected(key, "an integer", m.get(key));
    }

    static long integer(Map<String, Object> m, String key, long absent) {
        return m.containsKey(key) ? integer(m, key) : absent;
    }

    static int intValue(Object value, String what) {
        if (value instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return l.intValue();
        }
        throw unexpected(what, "an int", value);
    }

    static boolean bool(Map<String, Object> m, String key) {
        if (m.get(key) instanceof Boolean b) {
            return b;
        }
        throw unexpected(key, "a boolean", m.get(key));
    }

    static boolean bool(Map<String, Object> m, String key, boolean absent) {
        return m.containsKey(key) ? bool(m, key) : absent;
    }

    private static IllegalStateException unexpected(String what, String expected, Object got) {
        return new IllegalStateException("unexpected reply: '" + what + "' should be " + expected + ", got "
                + (got == null ? "nothing" : Json.describe(got) + " " + Json.write(got)));
    }
}
