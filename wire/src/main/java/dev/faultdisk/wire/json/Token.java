package dev.faultdisk.wire.json;

/**
 * One lexical token: its kind, its raw bytes as received (strings keep their quotes) and where it
 * starts in the stream (for an ERROR token: where the bad byte is), for messages about a whole text.
 */
record Token(Kind kind, byte[] text, long offset) {
    enum Kind {
        LEFT_BRACE,
        RIGHT_BRACE,
        LEFT_BRACKET,
        RIGHT_BRACKET,
        COLON,
        COMMA,
        STRING,
        INTEGER,
        FLOAT,
        KEYWORD,
        /** Bytes no token can start or continue with; text holds the token so far plus that byte. */
        ERROR,
        /** A single token grew past the size limit. */
        OVERSIZE
    }
}
