package dev.faultdisk.wire.json;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the tokens of one message into a value. The first problem found is the one reported,
 * worded as QEMU words it (the caller prefixes "JSON parse error, ").
 */
final class TokenParser {
    static final class SyntaxError extends Exception {
        /** Where the token the problem was found at starts; -1 for the end of the input. */
        final long offset;

        SyntaxError(String message, long offset) {
            super(message, null, false, false);
            this.offset = offset;
        }
    }

    private static final BigInteger MAX_UINT64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final List<Token> tokens;
    /** Where each member and element starts, by path, when asked for ({@link Json#memberLines}); else null. */
    private final Map<String, Long> starts;

    private int next;
    /** Where the token looked at last starts, for errors. */
    private long at = -1;

    TokenParser(List<Token> tokens) {
        this(tokens, null);
    }

    /** A parser that also records in {@code starts} where each member and element starts. */
    TokenParser(List<Token> tokens, Map<String, Long> starts) {
        this.tokens = tokens;
        this.starts = starts;
    }

    Object parse() throws SyntaxError {
        return value("");
    }

    private Token peek() throws SyntaxError {
        if (next >= tokens.size()) {
            throw new SyntaxError("premature EOI", -1);
        }
        Token token = tokens.get(next);
        at = token.offset();
        return token;
    }

    private Token pop() throws SyntaxError {
        Token token = peek();
        next++;
        return token;
    }

    /** The value at {@code path} ("exports[1].ops"; only kept when recording starts). */
    private Object value(String path) throws SyntaxError {
        Token token = peek();
        if (starts != null && path != null) {
            starts.putIfAbsent(path, token.offset());
        }
        return switch (token.kind()) {
            case LEFT_BRACE -> object(path);
            case LEFT_BRACKET -> array(path);
            case STRING -> string(pop());
            case INTEGER -> integer(pop());
            case FLOAT -> Double.parseDouble(ascii(pop()));
            case KEYWORD -> keyword(pop());
            default -> throw new SyntaxError("expecting value", at);
        };
    }

    private Map<String, Object> object(String path) throws SyntaxError {
        pop(); // {
        Map<String, Object> map = new LinkedHashMap<>();
        if (peek().kind() == Token.Kind.RIGHT_BRACE) {
            pop();
            return map;
        }
        member(map, path);
        Token token = pop();
        while (token.kind() != Token.Kind.RIGHT_BRACE) {
            if (token.kind() != Token.Kind.COMMA) {
                throw new SyntaxError("expected separator in dict", at);
            }
            member(map, path);
            token = pop();
        }
        return map;
    }

    private void member(Map<String, Object> map, String path) throws SyntaxError {
        Token keyToken = peek();
        Object key = value(null);
        if (!(key instanceof String name)) {
            throw new SyntaxError("key is not a string in object", at);
        }
        if (pop().kind() != Token.Kind.COLON) {
            throw new SyntaxError("missing : in object pair", at);
        }
        String memberPath = null;
        if (starts != null && path != null) { // null: inside a key, which has no path
            memberPath = path.isEmpty() ? name : path + "." + name;
            starts.put(memberPath, keyToken.offset()); // a member starts at its key
        }
        Object member = value(memberPath);
        if (map.containsKey(name)) {
            throw new SyntaxError("duplicate key", at);
        }
        map.put(name, member);
    }

    private List<Object> array(String path) throws SyntaxError {
        pop(); // [
        List<Object> list = new ArrayList<>();
        if (peek().kind() == Token.Kind.RIGHT_BRACKET) {
            pop();
            return list;
        }
        list.add(value(element(path, 0)));
        Token token = pop();
        while (token.kind() != Token.Kind.RIGHT_BRACKET) {
            if (token.kind() != Token.Kind.COMMA) {
                throw new SyntaxError("expected separator in list", at);
            }
            list.add(value(element(path, list.size())));
            token = pop();
        }
        return list;
    }

    private String element(String path, int index) {
        return starts == null || path == null ? null : path + "[" + index + "]";
    }

    private static Object keyword(Token token) throws SyntaxError {
        String word = ascii(token);
        return switch (word) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "null" -> null;
            default -> throw new SyntaxError("invalid keyword '" + word + "'", token.offset());
        };
    }

    /** As QEMU: a signed 64-bit integer if it fits, else unsigned 64-bit, else a double. */
    private static Object integer(Token token) {
        String digits = ascii(token);
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException tooBig) {
            BigInteger big = new BigInteger(digits);
            if (big.signum() > 0 && big.compareTo(MAX_UINT64) <= 0) {
                return big;
            }
            return big.doubleValue();
        }
    }

    private static String ascii(Token token) {
        return new String(token.text(), StandardCharsets.US_ASCII);
    }

    /** Decodes a string token (quotes included): escapes, surrogate pairs, modified UTF-8. */
    private static String string(Token token) throws SyntaxError {
        byte[] b = token.text();
        int end = b.length - 1; // the closing quote
        StringBuilder out = new StringBuilder(end);
        int p = 1;
        while (p < end) {
            int c = b[p] & 0xFF;
            if (c != '\\') {
                long decoded = ModifiedUtf8.decode(b, p, end);
                int cp = ModifiedUtf8.codePoint(decoded);
                if (cp < 0) {
                    throw new SyntaxError("invalid UTF-8 sequence in string", token.offset());
                }
                out.appendCodePoint(cp);
                p = ModifiedUtf8.next(decoded);
                continue;
            }
            int escapeStart = p;
            int e = b[p + 1] & 0xFF; // the lexer guarantees a byte after a backslash
            p += 2;
            switch (e) {
                case '"', '\'', '\\', '/' -> out.append((char) e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    int cp = hex4(b, p, end);
                    p += 4;
                    if (cp >= 0xD800 && cp <= 0xDBFF && p + 1 < end && b[p] == '\\' && b[p + 1] == 'u') {
                        int low = hex4(b, p + 2, end);
                        if (low >= 0xDC00 && low <= 0xDFFF) {
                            cp = 0x10000 + ((cp & 0x3FF) << 10) + (low & 0x3FF);
                            p += 6;
                        } else {
                            cp = -1;
                        }
                    }
                    if (!ModifiedUtf8.isValidCodePoint(cp)) {
                        // QEMU quotes the escape as written, up to the end of the token.
                        int shown = Math.min(p, b.length) - escapeStart;
                        throw new SyntaxError(
                                ModifiedUtf8.lenient(b, escapeStart, escapeStart + shown)
                                        + " is not a valid Unicode character",
                                token.offset());
                    }
                    out.appendCodePoint(cp);
                }
                default -> throw new SyntaxError("invalid escape sequence in string", token.offset());
            }
        }
        return out.toString();
    }

    private static int hex4(byte[] b, int p, int end) {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            if (p + i >= end) {
                return -1;
            }
            int c = b[p + i];
            int digit;
            if (c >= '0' && c <= '9') {
                digit = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                digit = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                digit = c - 'A' + 10;
            } else {
                return -1;
            }
            value = (value << 4) | digit;
        }
        return value;
    }
}
