package dev.faultdisk.device;

import dev.faultdisk.wire.Errno;

/**
 * Asks the frontend to drop the client's connection instead of replying: the disk "goes away"
 * under one request. With {@link #midReply()} the request was performed and the frontend first
 * sends part of its reply (for a read, the header and part of the data), so the client sees the
 * connection die in the middle of a reply. In-process callers see an ordinary EIO.
 */
public final class DisconnectException extends DeviceException {
    private static final long serialVersionUID = 1L;

    private final boolean midReply;

    public DisconnectException(String message, boolean midReply) {
        super(Errno.EIO, message);
        this.midReply = midReply;
    }

    /** True if part of the reply should go out before the connection drops. */
    public boolean midReply() {
        return midReply;
    }
}
