package dev.faultdisk.client;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.Members;
import java.util.Collection;
import java.util.List;

/**
 * Reads parsed replies through {@link Members}: a reply of the wrong shape is a clear {@link
 * IllegalStateException} ("unexpected reply: 'size' should be an integer, got a string ..."),
 * not a ClassCastException.
 */
final class Replies implements Members.Errors {
    private static final Replies ERRORS = new Replies();

    private Replies() {}

    /** {@code value} must be an object; {@code what} names it if it is not. */
    static Members object(Object value, String what) {
        if (value instanceof java.util.Map<?, ?> map) {
            return Members.object(map, "", ERRORS);
        }
        throw unexpected(what, Members.Type.OBJECT, value);
    }

    /** {@code value} must be an array. */
    @SuppressWarnings("unchecked")
    static List<Object> list(Object value, String what) {
        if (value instanceof List<?> list) {
            return (List<Object>) list;
        }
        throw unexpected(what, Members.Type.ARRAY, value);
    }

    /** {@code value} must be an integer. */
    static long longValue(Object value, String what) {
        if (value instanceof Long l) {
            return l;
        }
        throw unexpected(what, "an integer", value);
    }

    /** {@code value} must be an integer that fits an int. */
    static int intValue(Object value, String what) {
        if (value instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return l.intValue();
        }
        throw unexpected(what, "an int", value);
    }

    @Override
    public IllegalStateException missing(String name) {
        return new IllegalStateException("unexpected reply: '" + name + "' is missing");
    }

    @Override
    public IllegalStateException wrongType(String name, Members.Type expected, Object value) {
        return unexpected(name, expected, value);
    }

    @Override
    public IllegalStateException unexpected(String name) {
        return new IllegalStateException("unexpected reply: '" + name + "' is not expected");
    }

    @Override
    public IllegalStateException notAllowed(String name, String value, Collection<String> allowed) {
        return new IllegalStateException(
                "unexpected reply: '" + name + "' should be one of " + allowed + ", got " + value);
    }

    private static IllegalStateException unexpected(String what, Members.Type expected, Object got) {
        return unexpected(what, expected.withArticle(), got);
    }

    private static IllegalStateException unexpected(String what, String expected, Object got) {
        return new IllegalStateException("unexpected reply: '" + what + "' should be " + expected + ", got "
                + (got == null ? "nothing" : Json.describe(got) + " " + Json.write(got)));
    }
}
