package dev.faultdisk.client;

/** Something awaited (a reply, an event, a breakpoint hit) did not happen in time. */
public final class FaultdiskTimeoutException extends RuntimeException {
    public FaultdiskTimeoutException(String message) {
        super(message);
    }
}
