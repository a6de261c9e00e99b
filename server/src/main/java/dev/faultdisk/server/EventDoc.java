package dev.faultdisk.server;

import dev.faultdisk.qmp.QmpServer;
import java.util.List;

/** An asynchronous QMP event faultdisk emits, for the generated reference. */
record EventDoc(String name, String doc, List<String> fields) {

    /** Every event, in the order the reference lists them. */
    static final List<EventDoc> ALL = List.of(
            new EventDoc(
                    "BLOCK_IO_ERROR",
                    "A fault rule returned an error to a request (as QEMU emits it when a guest I/O fails).",
                    List.of(
                            "device: export name",
                            "node-name: export name",
                            "operation: read | write",
                            "action: always report",
                            "nospace: true for ENOSPC",
                            "reason: strerror text")),
            new EventDoc(
                    "BLKDEBUG_SUSPENDED",
                    "A request reached a blkdebug breakpoint and is held until blkdebug-resume or "
                            + "blkdebug-remove-breakpoint.",
                    List.of("device", "tag", "event: the blkdebug event", "operation", "offset", "length")),
            new EventDoc(
                    "BLKDEBUG_RESUMED",
                    "A suspended request left its breakpoint: resumed (blkdebug-resume, "
                            + "blkdebug-remove-breakpoint), or dropped because its connection closed (it never "
                            + "reaches the disk).",
                    List.of(
                            "device",
                            "tag",
                            "event",
                            "operation",
                            "offset",
                            "length",
                            "how: resumed | dropped",
                            "errno: ECONNRESET (if dropped)")),
            new EventDoc(
                    "POWER_FAIL",
                    "An export lost power (power-fail): its connections were dropped and "
                            + "unflushed writes lost as reported.",
                    List.of(
                            "device",
                            "mode",
                            "seed",
                            "dirty-writes",
                            "dirty-bytes",
                            "writes-kept",
                            "writes-torn",
                            "writes-lost",
                            "bytes-kept",
                            "bytes-lost")),
            new EventDoc(
                    "FAULT_INJECTED",
                    "A fault rule acted on a request (rules added with \"events\": false are only journaled). "
                            + "A hang rule's hold is announced with action \"held\".",
                    List.of(
                            "device",
                            "rule: the rule's id",
                            "type: the rule's type",
                            "label (if the rule has one)",
                            "operation: read | write | flush | trim | write-zeroes | block-status",
                            "offset",
                            "length",
                            "connection: the NBD connection (if known)",
                            "action: what was done, e.g. \"error EIO\", \"delayed 10.000 ms\", \"held\", "
                                    + "\"lost: acknowledged, not persisted\"",
                            "details: the exact facts (errno, delay-ms, corrupted bytes before and after, ...)",
                            "seed: the rule's seed",
                            "match: the request's match number for the rule")),
            new EventDoc(
                    "FAULT_RELEASED",
                    "A request a hang rule or a trigger held left the hold: released, failed with an errno, "
                            + "expired, or dropped because its connection closed (it never reaches the disk).",
                    List.of(
                            "device",
                            "id: the held request's id",
                            "rule (0 if a trigger held it)",
                            "trigger (if a trigger held it)",
                            "operation",
                            "offset",
                            "length",
                            "connection (if known)",
                            "how: released | failed | expired | dropped",
                            "errno: the errno it fails with (if it fails)")),
            new EventDoc(
                    "FAULT_JOURNAL_FILE_FAILED",
                    "Writing the --journal file failed: the file is stopped for good, the in-memory journal "
                            + "(query-fault-journal) goes on.",
                    List.of(
                            "path: the journal file",
                            "error: what the write failed with",
                            "dropped: entries the file did not get so far")),
            new EventDoc(
                    "TRIGGER_FIRED",
                    "A trigger's condition was satisfied: its command actions have run, its request actions are "
                            + "about to apply (docs/TRIGGERS.md).",
                    List.of(
                            "id: the trigger's id",
                            "name",
                            "count: how many times it has fired",
                            "observation: kind (request or the event), device, and for a request connection, "
                                    + "operation, offset, length; for an event its detail",
                            "actions: each action with its outcome (return or error of a command; "
                                    + "\"applies to the request\" for a request action)")),
            new EventDoc(
                    QmpServer.EVENTS_DROPPED,
                    "Sent to one session only: it fell behind, events found its output queue (1 MiB) full and "
                            + "were dropped for it, the others got them. It comes before any later event, once the "
                            + "session has read its queue down to half; a session that reads nothing for 10 s while "
                            + "its events are dropped is closed.",
                    List.of("count: events this session did not get since the previous EVENTS_DROPPED")));
}
