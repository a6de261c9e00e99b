package dev.faultdisk.server;

import java.util.List;

/** An asynchronous QMP event faultdisk emits, for the generated reference. */
record EventDoc(String name, String doc, List<String> fields) {

    /** Every event, in the order the reference lists them. */
    static final List<EventDoc> ALL = List.of(
            new EventDoc("BLOCK_IO_ERROR",
                    "A fault rule returned an error to a request (as QEMU emits it when a guest I/O fails).",
                    List.of("device: export name", "node-name: export name", "operation: read | write",
                            "action: always report", "nospace: true for ENOSPC", "reason: strerror text")),
            new EventDoc("BLKDEBUG_SUSPENDED",
                    "A request reached a blkdebug breakpoint and is held until blkdebug-resume or "
                            + "blkdebug-remove-breakpoint.",
                    List.of("device", "tag", "event: the blkdebug event", "operation", "offset", "length")),
            new EventDoc("BLKDEBUG_RESUMED", "A suspended request was released.",
                    List.of("device", "tag", "event", "operation", "offset", "length")),
            new EventDoc("POWER_FAIL", "An export lost power (power-fail): its connections were dropped and "
                    + "unflushed writes lost as reported.",
                    List.of("device", "mode", "seed", "dirty-writes", "dirty-bytes", "writes-kept", "writes-torn",
                            "writes-lost", "bytes-kept", "bytes-lost")));
}
