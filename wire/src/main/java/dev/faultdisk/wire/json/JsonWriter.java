package dev.faultdisk.wire.json;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes values on one line the way QEMU does: {@code ", "} between members, {@code ": "} after
 * keys, ASCII only (everything else as {@code \\uXXXX}, surrogate pairs beyond the BMP), and
 * U+FFFD for what is not a valid character (lone surrogates, noncharacters). For people it also
 * writes the same values indented, each member and element on its own line.
 */
final class JsonWriter {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    /** Deeper than any value a parser with sane limits produces; guards against cycles. */
    private static final int MAX_DEPTH = 4096;

    private JsonWriter() {}

    static void write(StringBuilder out, Object value) {
        write(out, value, 0, false);
    }

    /** Indented by two spaces per level; an empty object or array stays {@code {}} or {@code []}. */
    static void writePretty(StringBuilder out, Object value) {
        write(out, value, 0, true);
    }

    private static void write(StringBuilder out, Object value, int depth, boolean pretty) {
        if (depth > MAX_DEPTH) {
            throw new JsonException("value nested too deeply (a cycle?)");
        }
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case CharSequence s -> string(out, s);
            case Character c -> string(out, String.valueOf(c));
            case Long l -> out.append(l.longValue());
            case Integer i -> out.append(i.intValue());
            case Short s -> out.append(s.shortValue());
            case Byte b -> out.append(b.byteValue());
            case BigInteger big -> out.append(big);
            case AtomicInteger ai -> out.append(ai.get());
            case AtomicLong al -> out.append(al.get());
            case Double d -> real(out, d);
            case Float f -> real(out, f.doubleValue());
            case BigDecimal dec -> out.append(dec.toString());
            case Map<?, ?> map -> object(out, map, depth, pretty);
            case JsonMembers members -> object(out, members, depth, pretty);
            case Iterable<?> items -> array(out, items, depth, pretty);
            case Object[] items -> array(out, Arrays.asList(items), depth, pretty);
            case Enum<?> e -> string(out, e.name());
            case JsonConvertible convertible -> write(out, convertible.toJson(), depth + 1, pretty);
            default ->
                throw new JsonException("no JSON form for " + value.getClass().getName());
        }
    }

    /** Non-finite numbers have no JSON form; they are written as null. */
    private static void real(StringBuilder out, double d) {
        if (Double.isFinite(d)) {
            out.append(d);
        } else {
            out.append("null");
        }
    }

    private static void object(StringBuilder out, Map<?, ?> map, int depth, boolean pretty) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!(entry.getKey() instanceof CharSequence key)) {
                throw new JsonException("object keys must be strings, not " + entry.getKey());
            }
            first = separate(out, first, depth, pretty);
            string(out, key);
            out.append(": ");
            write(out, entry.getValue(), depth + 1, pretty);
        }
        close(out, '}', first, depth, pretty);
    }

    private static void object(StringBuilder out, JsonMembers members, int depth, boolean pretty) {
        out.append('{');
        var sink = new JsonMembers.Sink() {
            boolean first = true;

            @Override
            public void member(String name, Object value) {
                name(name);
                write(out, value, depth + 1, pretty);
            }

            @Override
            public void member(String name, long value) {
                name(name);
                out.append(value);
            }

            private void name(String name) {
                first = separate(out, first, depth, pretty);
                string(out, name);
                out.append(": ");
            }
        };
        members.writeMembers(sink);
        close(out, '}', sink.first, depth, pretty);
    }

    private static void array(StringBuilder out, Iterable<?> items, int depth, boolean pretty) {
        out.append('[');
        boolean first = true;
        for (Object item : items) {
            first = separate(out, first, depth, pretty);
            write(out, item, depth + 1, pretty);
        }
        close(out, ']', first, depth, pretty);
    }

    /** What goes before a member or element: a comma after the first, and a new line if pretty. */
    private static boolean separate(StringBuilder out, boolean first, int depth, boolean pretty) {
        if (!first) {
            out.append(pretty ? "," : ", ");
        }
        if (pretty) {
            newline(out, depth + 1);
        }
        return false;
    }

    private static void close(StringBuilder out, char bracket, boolean empty, int depth, boolean pretty) {
        if (pretty && !empty) {
            newline(out, depth);
        }
        out.append(bracket);
    }

    private static void newline(StringBuilder out, int depth) {
        out.append('\n');
        out.append("  ".repeat(depth));
    }

    static void string(StringBuilder out, CharSequence s) {
        out.append('"');
        int n = s.length();
        int plain = plainPrefix(s, n);
        // Most strings need no escape: one bulk append instead of one per character (an event per
        // delayed read is written on the request's thread).
        out.append(s, 0, plain);
        for (int i = plain; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c >= 0x20 && c < 0x7F) {
                        out.append(c);
                    } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                        int cp = Character.toCodePoint(c, s.charAt(++i));
                        if (ModifiedUtf8.isValidCodePoint(cp)) {
                            unicode(out, c);
                            unicode(out, s.charAt(i));
                        } else {
                            unicode(out, '\uFFFD');
                        }
                    } else {
                        unicode(out, ModifiedUtf8.isValidCodePoint(c) ? c : '\uFFFD');
                    }
                }
            }
        }
        out.append('"');
    }

    /** How many characters from the start are written as they are (printable ASCII, no quote or backslash). */
    private static int plainPrefix(CharSequence s, int n) {
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
                return i;
            }
        }
        return n;
    }

    private static void unicode(StringBuilder out, int c) {
        out.append("\\u")
                .append(HEX[(c >> 12) & 0xF])
                .append(HEX[(c >> 8) & 0xF])
                .append(HEX[(c >> 4) & 0xF])
                .append(HEX[c & 0xF]);
    }
}
