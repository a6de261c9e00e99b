package dev.faultdisk.fault.blkdebug;

/**
 * A request held at a breakpoint.
 *
 * @param id        unique within the engine, in suspension order
 * @param tag       the breakpoint's tag
 * @param event     the event it stopped at
 * @param operation what the request does
 * @param offset    its byte offset (0 for flush)
 * @param length    its length in bytes (0 for flush)
 */
public record SuspendedRequest(
        long id, String tag, BlkdebugEvent event, Operation operation, long offset, long length) {}
