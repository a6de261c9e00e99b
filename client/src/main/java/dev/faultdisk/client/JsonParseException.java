package dev.faultdisk.client;

/** Text that is not valid JSON; says where (1-based line and column). */
public final class JsonParseException extends IllegalArgumentException {
    private final int line;
    private final int column;

    public JsonParseException(String message, int line, int column) {
        super("line " + line + ", column " + column + ": " + message);
        this.line = line;
        this.column = column;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
