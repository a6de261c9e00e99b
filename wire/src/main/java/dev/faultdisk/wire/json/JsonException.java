package dev.faultdisk.wire.json;

/**
 * Text that is not the JSON expected, or a value that has no JSON form. The message is QEMU's
 * description; for a whole text parsed, {@link #line} and {@link #column} say where.
 */
public final class JsonException extends IllegalArgumentException {
    private final int line;
    private final int column;

    public JsonException(String message) {
        super(message);
        this.line = 0;
        this.column = 0;
    }

    private JsonException(String message, int line, int column) {
        super(message);
        this.line = line;
        this.column = column;
    }

    /** A problem found {@code offset} bytes into {@code utf8}, with its line and column. */
    static JsonException at(String message, byte[] utf8, long offset) {
        int end = (int) Math.min(Math.max(offset, 0), utf8.length);
        int line = 1;
        int column = 1;
        for (int i = 0; i < end; i++) {
            if (utf8[i] == '\n') {
                line++;
                column = 1;
            } else if ((utf8[i] & 0xC0) != 0x80) {
                column++; // a character starts here (not a UTF-8 continuation byte)
            }
        }
        return new JsonException(message, line, column);
    }

    /** The 1-based line of the problem in the text parsed, or 0 if it is not about a text. */
    public int line() {
        return line;
    }

    /** The 1-based column (in characters) of the problem, or 0 if it is not about a text. */
    public int column() {
        return column;
    }

    /** The message after the place, "line 2, column 5: JSON parse error, ...", for people editing a file. */
    public String messageWithPlace() {
        return line == 0 ? getMessage() : "line " + line + ", column " + column + ": " + getMessage();
    }
}
