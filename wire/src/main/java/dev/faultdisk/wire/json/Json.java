package dev.faultdisk.wire.json;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Whole-text JSON: parse one value, write one value. Values are the plain Java objects described
 * in {@link JsonStreamParser}; writing also accepts any {@code Number}-like box, {@code
 * CharSequence}, {@code Iterable}, array, enum (by name) and {@link JsonConvertible}.
 */
public final class Json {
    private Json() {}

    /**
     * Parses exactly one JSON value (QEMU's dialect: single-quoted strings allowed).
     *
     * @throws JsonException with QEMU's description and the line and column of the problem if the
     *                       text is not one well-formed value
     */
    public static Object parse(String text) {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    public static Object parse(byte[] utf8) {
        JsonStreamParser parser = new JsonStreamParser();
        List<JsonStreamParser.Result> results = new java.util.ArrayList<>(parser.feed(utf8));
        results.addAll(parser.finish());
        if (results.isEmpty()) {
            throw new JsonException("no JSON value in the input");
        }
        for (JsonStreamParser.Result result : results) {
            if (result instanceof JsonStreamParser.Failure failure) {
                throw JsonException.at(failure.message(), utf8, parser.firstFailureOffset());
            }
        }
        if (results.size() > 1) {
            throw new JsonException("expected one JSON value, found " + results.size());
        }
        return ((JsonStreamParser.Value) results.getFirst()).value();
    }

    /** One line, QEMU's spacing, ASCII only. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        JsonWriter.write(out, value);
        return out.toString();
    }

    /** Indented by two spaces per level, for people (same escapes as {@link #write}). */
    public static String writePretty(Object value) {
        StringBuilder out = new StringBuilder();
        JsonWriter.writePretty(out, value);
        return out.toString();
    }

    /**
     * Parses exactly one JSON value that must be an object.
     *
     * @throws JsonException if the text is not one well-formed value, or that value is not an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map<?, ?>)) {
            throw new JsonException("expected a JSON object, got " + describe(value));
        }
        return (Map<String, Object>) value;
    }

    /** What a parsed value is, for error messages: "a string", "an object"... */
    public static String describe(Object value) {
        return switch (value) {
            case null -> "null";
            case String s -> "a string";
            case Boolean b -> "a boolean";
            case Long l -> "an integer";
            case java.math.BigInteger b -> "an integer";
            case Number n -> "a number";
            case Map<?, ?> m -> "an object";
            case List<?> l -> "an array";
            default -> value.getClass().getSimpleName();
        };
    }

    /** A JSON string literal for {@code text}, as {@link #write} would write it. */
    public static String quote(CharSequence text) {
        StringBuilder out = new StringBuilder(text.length() + 2);
        JsonWriter.string(out, text);
        return out.toString();
    }
}
