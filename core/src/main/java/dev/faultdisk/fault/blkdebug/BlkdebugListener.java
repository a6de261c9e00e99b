package dev.faultdisk.fault.blkdebug;

/**
 * Notified of what an engine does to requests, on the request's (or resumer's) thread and outside
 * the engine's lock. Implementations must be quick and must not block: a slow listener holds up
 * the request that triggered it.
 */
public interface BlkdebugListener {

    /** A request stopped at a breakpoint (QEMU prints "blkdebug: Suspended request 'TAG'"). */
    default void suspended(SuspendedRequest request) {}

    /** A suspended request was released by resume or remove-breakpoint. */
    default void resumed(SuspendedRequest request) {}

    /** A suspended request was dropped because its client connection closed: it never reaches the disk. */
    default void dropped(SuspendedRequest request) {}

    /** A rule failed a request. */
    default void errorInjected(InjectedError error) {}
}
