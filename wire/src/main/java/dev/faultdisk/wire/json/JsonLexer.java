package dev.faultdisk.wire.json;

import java.util.Arrays;

/**
 * Splits a byte stream into JSON tokens with QEMU's extensions and its error recovery:
 * single-quoted strings, {@code \'} as an escape, and after a bad byte everything is skipped up
 * to the next structural character, ASCII control character (other than tab) or byte 0xFE/0xFF.
 * That is what lets a client resynchronise by sending such a byte. String contents are only
 * checked for control characters here; escapes and UTF-8 are checked by the parser.
 */
final class JsonLexer {
    interface Sink {
        void token(Token.Kind kind, byte[] text, long offset);
    }

    private enum State {
        START,
        RECOVERY,
        DQ_STRING,
        DQ_ESCAPE,
        SQ_STRING,
        SQ_ESCAPE,
        SIGN,
        ZERO,
        DIGITS,
        MANTISSA,
        MANTISSA_DIGITS,
        EXP_E,
        EXP_SIGN,
        EXP_DIGITS,
        KEYWORD
    }

    private static final byte[][] STRUCTURAL = new byte[128][];

    static {
        for (char c : "{}[]:,".toCharArray()) {
            STRUCTURAL[c] = new byte[] {(byte) c};
        }
    }

    private final int maxTokenBytes;
    private State state = State.START;
    private byte[] buffer = new byte[64];
    private int length;
    /** Bytes consumed before the current one, from the start of the stream. */
    private long position;

    private long tokenStart;

    JsonLexer(int maxTokenBytes) {
        this.maxTokenBytes = maxTokenBytes;
    }

    void feed(byte[] data, int offset, int count, Sink sink) {
        for (int i = offset; i < offset + count; i++) {
            step(data[i] & 0xFF, sink);
            position++;
        }
    }

    /** End of input: finishes a pending number or keyword; an unfinished string is an error. */
    void flush(Sink sink) {
        switch (state) {
            case START, RECOVERY -> {}
            case ZERO, DIGITS -> emit(Token.Kind.INTEGER, sink);
            case MANTISSA_DIGITS, EXP_DIGITS -> emit(Token.Kind.FLOAT, sink);
            case KEYWORD -> emit(Token.Kind.KEYWORD, sink);
            default -> sink.token(Token.Kind.ERROR, take(), tokenStart);
        }
        state = State.START;
        length = 0;
    }

    private void step(int c, Sink sink) {
        boolean consumed = false;
        while (!consumed) {
            consumed = true;
            switch (state) {
                case START -> start(c, sink);
                case RECOVERY -> {
                    if (isResyncPoint(c)) {
                        state = State.START;
                        consumed = false;
                    }
                }
                case DQ_STRING -> string(c, '"', State.DQ_ESCAPE, sink);
                case SQ_STRING -> string(c, '\'', State.SQ_ESCAPE, sink);
                case DQ_ESCAPE -> escaped(c, State.DQ_STRING, sink);
                case SQ_ESCAPE -> escaped(c, State.SQ_STRING, sink);
                case SIGN -> {
                    if (c == '0') {
                        append(c, State.ZERO);
                    } else if (c >= '1' && c <= '9') {
                        append(c, State.DIGITS);
                    } else {
                        error(c, sink);
                    }
                }
                case ZERO -> {
                    if (isDigit(c)) {
                        error(c, sink); // no leading zeros
                    } else if (c == '.') {
                        append(c, State.MANTISSA);
                    } else {
                        consumed = emit(Token.Kind.INTEGER, sink);
                    }
                }
                case DIGITS -> {
                    if (isDigit(c)) {
                        append(c, State.DIGITS);
                    } else if (c == '.') {
                        append(c, State.MANTISSA);
                    } else if (c == 'e' || c == 'E') {
                        append(c, State.EXP_E);
                    } else {
                        consumed = emit(Token.Kind.INTEGER, sink);
                    }
                }
                case MANTISSA -> {
                    if (isDigit(c)) {
                        append(c, State.MANTISSA_DIGITS);
                    } else {
                        error(c, sink);
                    }
                }
                case MANTISSA_DIGITS -> {
                    if (isDigit(c)) {
                        append(c, State.MANTISSA_DIGITS);
                    } else if (c == 'e' || c == 'E') {
                        append(c, State.EXP_E);
                    } else {
                        consumed = emit(Token.Kind.FLOAT, sink);
                    }
                }
                case EXP_E -> {
                    if (c == '+' || c == '-') {
                        append(c, State.EXP_SIGN);
                    } else if (isDigit(c)) {
                        append(c, State.EXP_DIGITS);
                    } else {
                        error(c, sink);
                    }
                }
                case EXP_SIGN -> {
                    if (isDigit(c)) {
                        append(c, State.EXP_DIGITS);
                    } else {
                        error(c, sink);
                    }
                }
                case EXP_DIGITS -> {
                    if (isDigit(c)) {
                        append(c, State.EXP_DIGITS);
                    } else {
                        consumed = emit(Token.Kind.FLOAT, sink);
                    }
                }
                case KEYWORD -> {
                    if (c >= 'a' && c <= 'z') {
                        append(c, State.KEYWORD);
                    } else {
                        consumed = emit(Token.Kind.KEYWORD, sink);
                    }
                }
            }
        }
        if (length > maxTokenBytes) {
            // Like QEMU: report the oversized token and start afresh with what follows.
            sink.token(Token.Kind.OVERSIZE, take(), tokenStart);
            state = State.START;
        }
    }

    private void start(int c, Sink sink) {
        switch (c) {
            case '"' -> append(c, State.DQ_STRING);
            case '\'' -> append(c, State.SQ_STRING);
            case '-' -> append(c, State.SIGN);
            case '0' -> append(c, State.ZERO);
            case '{' -> structural(Token.Kind.LEFT_BRACE, c, sink);
            case '}' -> structural(Token.Kind.RIGHT_BRACE, c, sink);
            case '[' -> structural(Token.Kind.LEFT_BRACKET, c, sink);
            case ']' -> structural(Token.Kind.RIGHT_BRACKET, c, sink);
            case ':' -> structural(Token.Kind.COLON, c, sink);
            case ',' -> structural(Token.Kind.COMMA, c, sink);
            case ' ', '\t', '\r', '\n' -> {}
            default -> {
                if (c >= '1' && c <= '9') {
                    append(c, State.DIGITS);
                } else if (c >= 'a' && c <= 'z') {
                    append(c, State.KEYWORD);
                } else {
                    error(c, sink);
                }
            }
        }
    }

    private void string(int c, char quote, State escapeState, Sink sink) {
        if (c == quote) {
            append(c, State.START);
            sink.token(Token.Kind.STRING, take(), tokenStart);
        } else if (c == '\\') {
            append(c, escapeState);
        } else if (c >= 0x20 && c <= 0xFD) {
            append(c, state);
        } else {
            error(c, sink);
        }
    }

    private void escaped(int c, State stringState, Sink sink) {
        if (c >= 0x20 && c <= 0xFD) {
            append(c, stringState);
        } else {
            error(c, sink);
        }
    }

    private void structural(Token.Kind kind, int c, Sink sink) {
        state = State.START;
        sink.token(kind, STRUCTURAL[c], position); // shared: a message may hold many of these
    }

    /** Emits the pending token; the current byte was not part of it and is looked at again. */
    private boolean emit(Token.Kind kind, Sink sink) {
        sink.token(kind, take(), tokenStart);
        state = State.START;
        return false;
    }

    private void error(int c, Sink sink) {
        appendByte(c);
        sink.token(Token.Kind.ERROR, take(), position);
        state = State.RECOVERY;
    }

    private void append(int c, State next) {
        appendByte(c);
        state = next;
    }

    private void appendByte(int c) {
        if (length == 0) {
            tokenStart = position;
        }
        if (length == buffer.length) {
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
        buffer[length++] = (byte) c;
    }

    private byte[] take() {
        byte[] text = Arrays.copyOf(buffer, length);
        length = 0;
        if (buffer.length > 4096) {
            buffer = new byte[64]; // do not keep a huge buffer after one huge token
        }
        return text;
    }

    /** Bytes fed so far: where the input ends once it is all fed. */
    long position() {
        return position;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isResyncPoint(int c) {
        return (c < 0x20 && c != '\t')
                || c >= 0xFE
                || c == '['
                || c == ']'
                || c == '{'
                || c == '}'
                || c == ':'
                || c == ',';
    }
}
