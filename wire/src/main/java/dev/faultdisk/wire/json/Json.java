package dev.faultdisk.wire.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whole-text JSON: parse one value, write one value. Values are the plain Java objects described
 * in {@link JsonStreamParser}; writing also accepts any {@code Number}-like box, {@code
 * CharSequence}, {@code Iterable}, array, enum (by name), {@link JsonConvertible} and {@link
 * JsonMembers}.
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
        List<JsonStreamParser.Result> results = new ArrayList<>(parser.feed(utf8));
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

    /**
     * The line (from 1) each member and element of one JSON text starts on, by path: {@code ""}
     * for the whole value, {@code exports[1].faults[0].ops} deeper down; a member starts at its
     * key. Lets a problem found in the parsed value name its line. For a text that is not one
     * well-formed value, the starts found before the problem.
     */
    public static Map<String, Integer> memberLines(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        List<Token> tokens = new ArrayList<>();
        JsonLexer.Sink sink = (kind, bytes, offset) -> tokens.add(new Token(kind, bytes, offset));
        JsonLexer lexer = new JsonLexer(JsonLimits.DEFAULT.maxMessageBytes());
        lexer.feed(utf8, 0, utf8.length, sink);
        lexer.flush(sink);
        if (tooDeep(tokens)) {
            return Map.of(); // parse refuses it; the parser would recurse that deep
        }
        Map<String, Long> starts = new HashMap<>();
        try {
            new TokenParser(tokens, starts).parse();
        } catch (TokenParser.SyntaxError e) {
            // Json.parse reports the problem; the starts before it still serve.
        }
        List<Long> newlines = new ArrayList<>();
        for (int i = 0; i < utf8.length; i++) {
            if (utf8[i] == '\n') {
                newlines.add((long) i);
            }
        }
        Map<String, Integer> lines = new HashMap<>();
        starts.forEach((path, offset) -> {
            int before = Collections.binarySearch(newlines, offset); // never found: offsets are tokens
            lines.put(path, 1 + (before < 0 ? -before - 1 : before));
        });
        return lines;
    }

    private static boolean tooDeep(List<Token> tokens) {
        int depth = 0;
        for (Token t : tokens) {
            switch (t.kind()) {
                case LEFT_BRACE, LEFT_BRACKET -> depth++;
                case RIGHT_BRACE, RIGHT_BRACKET -> depth--;
                default -> {}
            }
            if (depth > JsonLimits.DEFAULT.maxNesting()) {
                return true;
            }
        }
        return false;
    }

    /** One line, QEMU's spacing, ASCII only. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder(256); // most replies fit: fewer copies as it grows
        JsonWriter.write(out, value);
        return out.toString();
    }

    /** Appends {@code value} as {@link #write(Object)} would return it: for a caller that reuses its builder. */
    public static void write(StringBuilder out, Object value) {
        JsonWriter.write(out, value);
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
