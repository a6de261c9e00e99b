package dev.faultdisk.fault.blkdebug;

/** A breakpoint (qemu-io {@code break EVENT TAG}): the next request reaching the event is suspended. */
public record Breakpoint(BlkdebugEvent event, String tag) {}
