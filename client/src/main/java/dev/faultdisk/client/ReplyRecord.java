package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a reply object into a record by its components' names, so a reply type is declared once
 * (as the record) instead of again as a list of getter calls. Component {@code fooBar} reads
 * member {@code foo-bar}, QMP's spelling; a component named {@code raw} of type {@code Map} gets
 * the whole object. Types: {@code String}, {@code long}, {@code int}, {@code boolean},
 * {@code List<String>}, the wire enums (by their {@code parse(String)}), and nested reply records
 * or lists of them. A member is required unless its component says what stands in for it
 * ({@link Absent}). Replies that need conversions beyond these read their members by hand.
 */
final class ReplyRecord {
    /** What a component holds when its member is absent, written as the member would be. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Absent {
        /** The stand-in: "" or "0" or "-1"... {@link #NULL} for null (a string or a record). */
        String value();

        /** The {@link #value} that means null. */
        String NULL = "\0null";
    }

    private static final Map<Class<?>, Constructor<?>> CONSTRUCTORS = new ConcurrentHashMap<>();

    private ReplyRecord() {}

    /** {@code value} must be an object of {@code type}'s members; {@code what} names it in errors. */
    static <R extends Record> R read(Class<R> type, Object value, String what) {
        return read(type, Replies.object(value, what));
    }

    /** Nested objects keep their path ({@code exports[1].reverted.name}) in errors. */
    private static <R extends Record> R read(Class<R> type, Members m) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            args[i] = component(m, components[i]);
        }
        try {
            return type.cast(constructor(type, components).newInstance(args));
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(
                    "unexpected reply: " + type.getSimpleName() + ": "
                            + e.getCause().getMessage(),
                    e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type + " is not a readable reply record", e);
        }
    }

    private static Object component(Members m, RecordComponent c) {
        String name = memberName(c.getName());
        Class<?> type = c.getType();
        if (type == Map.class && c.getName().equals("raw")) {
            return m.asMap();
        }
        Absent absent = c.getAnnotation(Absent.class);
        if (!m.has(name) && absent != null) {
            return absentValue(type, absent.value());
        }
        if (type == String.class) {
            return m.string(name);
        } else if (type == long.class) {
            return m.integer(name);
        } else if (type == int.class) {
            return Math.toIntExact(m.integer(name));
        } else if (type == boolean.class) {
            return m.bool(name);
        } else if (type.isEnum()) {
            return wireEnum(type, m.string(name), m.fullName(name));
        } else if (type.isRecord()) {
            return read(type.asSubclass(Record.class), m.object(name));
        } else if (type == List.class) {
            return list(m, name, c.getGenericType());
        }
        throw new IllegalArgumentException(c + " has a type replies are not read into");
    }

    /** The wire enums read their QMP spelling with a static parse(String). */
    private static Object wireEnum(Class<?> type, String text, String name) {
        try {
            return type.getMethod("parse", String.class).invoke(null, text);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(
                    "unexpected reply: '" + name + "': " + e.getCause().getMessage(), e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(type + " has no parse(String)", e);
        }
    }

    private static List<?> list(Members m, String name, Type generic) {
        Type element = ((ParameterizedType) generic).getActualTypeArguments()[0];
        if (element == String.class) {
            return m.strings(name);
        }
        Class<? extends Record> type = ((Class<?>) element).asSubclass(Record.class);
        List<Members> values = m.objects(name);
        List<Object> out = new ArrayList<>(values.size());
        for (Members value : values) {
            out.add(read(type, value));
        }
        return List.copyOf(out);
    }

    private static Object absentValue(Class<?> type, String value) {
        if (value.equals(Absent.NULL)) {
            return null;
        } else if (type == long.class) {
            return Long.parseLong(value);
        } else if (type == int.class) {
            return Integer.parseInt(value);
        } else if (type == boolean.class) {
            return Boolean.parseBoolean(value);
        }
        return value;
    }

    /** fooBar to foo-bar. */
    static String memberName(String component) {
        StringBuilder out = new StringBuilder(component.length() + 4);
        for (int i = 0; i < component.length(); i++) {
            char ch = component.charAt(i);
            if (Character.isUpperCase(ch)) {
                out.append('-').append(Character.toLowerCase(ch));
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    private static Constructor<?> constructor(Class<?> type, RecordComponent[] components) {
        return CONSTRUCTORS.computeIfAbsent(type, t -> {
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                types[i] = components[i].getType();
            }
            try {
                return t.getDeclaredConstructor(types);
            } catch (NoSuchMethodException e) {
                throw new IllegalArgumentException(t + " has no canonical constructor", e);
            }
        });
    }
}
