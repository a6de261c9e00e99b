package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a reply object into a record by its components' names, so a reply type is declared once
 * (as the record) instead of again as a list of getter calls. Component {@code fooBar} reads
 * member {@code foo-bar}, QMP's spelling; a component named {@code raw} of type {@code Map} gets
 * the whole object. Types: {@code String}, {@code long}, {@code boolean}, {@code List<String>},
 * the wire enums (by their {@code parse(String)}), and nested reply records or lists of them. A
 * member is required unless its component says what stands in for it ({@link Absent}). Replies
 * that need conversions beyond these read their members by hand. What a type's components are is
 * worked out once per type.
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

    /** Each record type's components, worked out once. */
    private static final ClassValue<Reader> READERS = new ClassValue<>() {
        @Override
        protected Reader computeValue(Class<?> type) {
            return Reader.of(type);
        }
    };

    private ReplyRecord() {}

    /** {@code value} must be an object of {@code type}'s members; {@code what} names it in errors. */
    static <R extends Record> R read(Class<R> type, Object value, String what) {
        return read(type, Replies.object(value, what));
    }

    /** Nested objects keep their path ({@code exports[1].reverted.name}) in errors. */
    private static <R extends Record> R read(Class<R> type, Members m) {
        Reader reader = READERS.get(type);
        Object[] args = new Object[reader.components.size()];
        for (int i = 0; i < args.length; i++) {
            args[i] = reader.components.get(i).read(m);
        }
        try {
            return type.cast(reader.constructor.newInstance(args));
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(
                    "unexpected reply: " + type.getSimpleName() + ": "
                            + e.getCause().getMessage(),
                    e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type + " is not a readable reply record", e);
        }
    }

    /** A record type's canonical constructor and its components in order. */
    private record Reader(Constructor<?> constructor, List<Component> components) {
        static Reader of(Class<?> type) {
            RecordComponent[] rc = type.getRecordComponents();
            Class<?>[] types = new Class<?>[rc.length];
            List<Component> components = new ArrayList<>(rc.length);
            for (int i = 0; i < rc.length; i++) {
                types[i] = rc[i].getType();
                components.add(Component.of(rc[i]));
            }
            try {
                return new Reader(type.getDeclaredConstructor(types), List.copyOf(components));
            } catch (NoSuchMethodException e) {
                throw new IllegalArgumentException(type + " has no canonical constructor", e);
            }
        }
    }

    /**
     * One component: its member's name, what stands in when the member is absent ({@code
     * optional} false: the member is required), and for a wire enum its parse method.
     */
    private record Component(RecordComponent component, String member, boolean optional, Object absent, Method parse) {
        static Component of(RecordComponent c) {
            Absent absent = c.getAnnotation(Absent.class);
            return new Component(
                    c,
                    memberName(c.getName()),
                    absent != null,
                    absent == null ? null : absentValue(c, absent.value()),
                    c.getType().isEnum() ? parseMethod(c.getType()) : null);
        }

        Object read(Members m) {
            Class<?> type = component.getType();
            if (type == Map.class && component.getName().equals("raw")) {
                return m.asMap();
            }
            if (optional && !m.has(member)) {
                return absent;
            }
            if (type == String.class) {
                return m.string(member);
            } else if (type == long.class) {
                return m.integer(member);
            } else if (type == boolean.class) {
                return m.bool(member);
            } else if (type.isEnum()) {
                return wireEnum(parse, m.string(member), m.fullName(member));
            } else if (type.isRecord()) {
                return ReplyRecord.read(type.asSubclass(Record.class), m.object(member));
            } else if (type == List.class) {
                return list(m, member, component.getGenericType());
            }
            throw new IllegalArgumentException(component + " has a type replies are not read into");
        }
    }

    /** The wire enums read their QMP spelling with a static parse(String). */
    private static Method parseMethod(Class<?> type) {
        try {
            return type.getMethod("parse", String.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(type + " has no parse(String)", e);
        }
    }

    private static Object wireEnum(Method parse, String text, String name) {
        try {
            return parse.invoke(null, text);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(
                    "unexpected reply: '" + name + "': " + e.getCause().getMessage(), e);
        } catch (IllegalAccessException e) {
            throw new IllegalArgumentException(parse + " is not public", e);
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

    private static Object absentValue(RecordComponent c, String value) {
        Class<?> type = c.getType();
        if (value.equals(Absent.NULL)) {
            return null;
        } else if (type == long.class) {
            return Long.parseLong(value);
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
}
