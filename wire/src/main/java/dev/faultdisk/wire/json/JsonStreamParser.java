package dev.faultdisk.wire.json;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses a stream of JSON values fed in arbitrary fragments, the way QEMU's monitor does: no
 * newline is needed, one read may hold several values or a part of one, and bad input yields an
 * error result and resynchronisation instead of a stuck stream.
 *
 * <p>Values are collected token by token until their braces and brackets balance, then parsed.
 * A lexical error (a byte no token can hold) ends the current message at once; the lexer then
 * skips to the next structural character, control character or 0xFE/0xFF byte. A syntax error
 * (tokens in the wrong order) is reported when the message's brackets balance, or when a closing
 * bracket has no opening one. Error texts are QEMU's ("JSON parse error, ...").
 *
 * <p>Values are plain Java objects: {@code Map<String, Object>} (insertion ordered), {@code
 * List<Object>}, {@code String}, {@code Long} (or {@code BigInteger} between 2^63 and 2^64-1),
 * {@code Double}, {@code Boolean} and {@code null}. Not thread-safe: one parser per stream.
 */
public final class JsonStreamParser {
    /** What one message turned out to be. */
    public sealed interface Result permits Value, Failure {}

    /** A well-formed value (may be any JSON value, not only an object). */
    public record Value(Object value) implements Result {}

    /** Bad input, with QEMU's description of it. */
    public record Failure(String message) implements Result {}

    private final JsonLimits limits;
    private final JsonLexer lexer;
    private List<Token> tokens = new ArrayList<>();
    private final JsonLexer.Sink sink = this::token;
    private List<Result> out = new ArrayList<>();
    private long tokenBytes;
    private int braces;
    private int brackets;
    private long firstFailureOffset = -1;

    public JsonStreamParser() {
        this(JsonLimits.DEFAULT);
    }

    public JsonStreamParser(JsonLimits limits) {
        this.limits = limits;
        this.lexer = new JsonLexer(limits.maxMessageBytes());
    }

    /** Feeds bytes; returns the messages they completed, in order (often none). */
    public List<Result> feed(byte[] data, int offset, int length) {
        lexer.feed(data, offset, length, sink);
        return drain();
    }

    public List<Result> feed(byte[] data) {
        return feed(data, 0, data.length);
    }

    /** End of input: completes a trailing number or keyword and reports an unfinished message. */
    public List<Result> finish() {
        lexer.flush(sink);
        if (!tokens.isEmpty()) {
            parse();
        }
        return drain();
    }

    private List<Result> drain() {
        if (out.isEmpty()) {
            return List.of();
        }
        List<Result> done = out;
        out = new ArrayList<>();
        return done;
    }

    private void token(Token.Kind kind, byte[] text, long offset) {
        switch (kind) {
            case LEFT_BRACE -> braces++;
            case RIGHT_BRACE -> braces--;
            case LEFT_BRACKET -> brackets++;
            case RIGHT_BRACKET -> brackets--;
            case ERROR -> {
                fail("JSON parse error, stray '" + ModifiedUtf8.lenient(text, 0, text.length) + "'", offset);
                return;
            }
            case OVERSIZE -> {
                fail("JSON token size limit exceeded", offset);
                return;
            }
            default -> {}
        }
        if (tokenBytes + text.length + 1 > limits.maxMessageBytes()) {
            fail("JSON token size limit exceeded", offset);
            return;
        }
        if (tokens.size() + 1 > limits.maxTokens()) {
            fail("JSON token count limit exceeded", offset);
            return;
        }
        if (braces + brackets > limits.maxNesting()) {
            fail("JSON nesting depth limit exceeded", offset);
            return;
        }
        tokens.add(new Token(kind, text, offset));
        tokenBytes += text.length;
        if ((braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0) {
            return; // the message is still open
        }
        parse();
    }

    private void parse() {
        Result result;
        try {
            result = new Value(new TokenParser(tokens).parse());
        } catch (TokenParser.SyntaxError e) {
            result = new Failure("JSON parse error, " + e.getMessage());
            failedAt(e.offset < 0 ? lexer.position() : e.offset);
        }
        reset();
        out.add(result);
    }

    private void fail(String message, long offset) {
        reset();
        out.add(new Failure(message));
        failedAt(offset);
    }

    private void failedAt(long offset) {
        if (firstFailureOffset < 0) {
            firstFailureOffset = offset;
        }
    }

    /**
     * Where in the stream the first failure was found, in bytes from its start (-1 if none yet),
     * so that an error about a whole text can say where; a stream's failures do not need it.
     */
    long firstFailureOffset() {
        return firstFailureOffset;
    }

    private void reset() {
        if (tokens.size() > 1024) {
            tokens = new ArrayList<>(); // a cleared list keeps its array: a huge message's would stay
        } else {
            tokens.clear();
        }
        tokenBytes = 0;
        braces = 0;
        brackets = 0;
    }
}
