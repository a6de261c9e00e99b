package dev.faultdisk.fault.blkdebug;

/** A blkdebug configuration that QEMU would refuse; the message names the file and line. */
public final class BlkdebugConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;

    BlkdebugConfigException(String source, int line, String message) {
        super(source + (line > 0 ? ":" + line : "") + ": " + message);
        this.source = source;
        this.line = line;
    }

    /** The file (or other source) the configuration came from. */
    public String source() {
        return source;
    }

    /** The 1-based line the error was found at, or 0 if it concerns the whole file. */
    public int line() {
        return line;
    }
}
