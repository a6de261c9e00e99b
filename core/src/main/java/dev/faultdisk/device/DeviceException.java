package dev.faultdisk.device;

import java.io.IOException;

/**
 * A failed device operation with the errno to report. Carries no stack trace: injected faults
 * raise these on the data path, where a stack walk per error would cost more than the I/O.
 * Not final only for {@link DisconnectException}, which asks the frontend to drop the connection.
 */
public sealed class DeviceException extends IOException permits DisconnectException {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final long offset;

    public DeviceException(int errno, String message) {
        this(errno, message, -1);
    }

    /** An error at a known byte offset of the device (reported as NBD ERROR_OFFSET where possible). */
    public DeviceException(int errno, String message, long offset) {
        super(message, null);
        this.errno = errno;
        this.offset = offset;
    }

    public int errno() {
        return errno;
    }

    /** Byte offset the error applies to, or -1 if unknown. */
    public long offset() {
        return offset;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
