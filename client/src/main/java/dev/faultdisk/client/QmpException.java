package dev.faultdisk.client;

/**
 * The server refused a command: QMP's {@code {"error": {"class": ..., "desc": ...}}}. Branch on
 * {@link #errorClass()} ({@code GenericError}, {@code CommandNotFound}, {@code DeviceNotFound}...);
 * {@link #desc()} is for people.
 */
public final class QmpException extends RuntimeException {
    private final String command;
    private final String errorClass;
    private final String desc;

    public QmpException(String command, String errorClass, String desc) {
        super(command + ": " + errorClass + ": " + desc);
        this.command = command;
        this.errorClass = errorClass;
        this.desc = desc;
    }

    /** The command that failed. */
    public String command() {
        return command;
    }

    /** QMP's error class, e.g. {@code GenericError} or {@code DeviceNotFound}. */
    public String errorClass() {
        return errorClass;
    }

    /** The server's human-readable description. */
    public String desc() {
        return desc;
    }
}
