package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.DEVICE;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ResetReport;
import dev.faultdisk.export.SnapshotRevert;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.snapshot.SnapshotVolume;
import dev.faultdisk.trigger.TriggerEngine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Snapshots and reset (docs/SNAPSHOTS.md): snapshot-create, snapshot-revert, snapshot-delete,
 * query-snapshots, and reset, which returns an export (or all) to a known state in one command.
 */
final class SnapshotCommands {
    private SnapshotCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports, TriggerEngine triggers) {
        commands.register(onSnapshot(
                        "snapshot-create",
                        exports,
                        (e, name) -> info(ExportCall.run(e, () -> e.createSnapshot(name))),
                        "Takes a named snapshot of the export, copy-on-write in 4 KiB blocks: instant, whatever the "
                                + "size. The write cache is persisted first, so the snapshot holds what clients read. Names "
                                + "are 1 to 128 letters, digits and _.:@-; an export holds at most 64 snapshots. A taken "
                                + "name or a full export is an error and changes nothing.")
                .returns("SnapshotInfo")
                .example(
                        "-> {\"execute\": \"snapshot-create\", \"arguments\": {\"device\": \"disk0\", \"name\": \"clean\"}}")
                .example("<- {\"return\": {\"name\": \"clean\", \"time\": \"2030-01-01T00:00:00Z\", "
                        + "\"bytes-changed-since\": 0}}")
                .build());
        commands.register(onSnapshot(
                        "snapshot-revert",
                        exports,
                        (e, name) -> revert(ExportCall.run(e, () -> e.revertSnapshot(name))),
                        "Returns the export's data to a snapshot, in time proportional to what changed since (not to "
                                + "the disk's size); the snapshot stays. Like swapping the medium: the write cache's dirty "
                                + "data is dropped (the reply says how much), and requests that entered before the revert "
                                + "and had not reached the cache fail with ESHUTDOWN. An unknown snapshot changes nothing.")
                .returns("SnapshotRevert")
                .example(
                        "-> {\"execute\": \"snapshot-revert\", \"arguments\": {\"device\": \"disk0\", \"name\": \"clean\"}}")
                .example("<- {\"return\": {\"name\": \"clean\", \"bytes-reverted\": 8192, \"cache-bytes-dropped\": "
                        + "512, \"cache-ranges-dropped\": 1}}")
                .build());
        commands.register(onSnapshot(
                        "snapshot-delete",
                        exports,
                        (e, name) -> ExportCall.run(e, () -> {
                            e.deleteSnapshot(name);
                            return null;
                        }),
                        "Deletes a snapshot; the data clients read does not change. Deleting the last one writes what "
                                + "changed since into the backend (a file export's image then holds it) and requests go "
                                + "straight to the backend again.")
                .build());
        commands.register(QmpCommand.builder("query-snapshots")
                .doc("""
                        The snapshots of one export or of all, oldest first per export: device, name, when it was taken
                        and the bytes changed since (whole 4 KiB blocks).""")
                .optional("device", ArgType.STRING, "export name (default: every export)")
                .returns("[SnapshotInfo]")
                .handler(args -> {
                    List<Object> out = new ArrayList<>();
                    for (Export e : BlockCommands.exportOrAll(exports, args.string("device", null))) {
                        for (SnapshotVolume.Snapshotted s : e.snapshots()) {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("device", e.name());
                            m.putAll(info(s));
                            out.add(m);
                        }
                    }
                    return out;
                })
                .build());
        commands.register(QmpCommand.builder("reset")
                .doc("""
                        Returns one export, or every export, to a known state in one command: fault rules removed and
                        the requests they or triggers hold failed with ESHUTDOWN (or released, with "held":
                        "release"); blkdebug rules, state and breakpoints cleared and suspended requests resumed; an
                        armed flush error disarmed; counters zeroed; the triggers naming the export (every trigger,
                        without a device) removed; optionally the data reverted to a snapshot. Nothing issued before the
                        reset lands after it: a request still on its way fails with ESHUTDOWN. The reply counts what was
                        cleared. An unknown export or snapshot changes nothing.""")
                .optional("device", ArgType.STRING, "export name (default: every export)")
                .argument(Argument.enumeration(
                        "held", true, "what happens to held requests (default fail)", List.of("fail", "release")))
                .optional(
                        "snapshot",
                        ArgType.STRING,
                        "revert the data to this snapshot (every export reset must have it)")
                .returns("ResetReport")
                .example("-> {\"execute\": \"reset\", \"arguments\": {\"device\": \"disk0\", \"snapshot\": \"clean\"}}")
                .example("<- {\"return\": {\"triggers\": 1, \"exports\": [{\"device\": \"disk0\", \"fault-rules\": 2, "
                        + "\"held-failed\": 1, \"held-released\": 0, \"blkdebug-rules\": 0, \"breakpoints\": 0, "
                        + "\"suspended-resumed\": 0, \"flush-error-disarmed\": false, \"reverted\": {...}}]}}")
                .handler(args -> reset(
                        exports,
                        triggers,
                        args.string("device", null),
                        "release".equals(args.string("held", "fail")),
                        args.string("snapshot", null)))
                .build());
    }

    /** Does something to one snapshot of one export. */
    @FunctionalInterface
    private interface SnapshotCall {
        Object call(Export export, String name);
    }

    /** A command on one named snapshot of one export: arguments "device" and "name", then {@code call}. */
    private static QmpCommand.Builder onSnapshot(
            String command, ExportRegistry exports, SnapshotCall call, String doc) {
        return QmpCommand.builder(command)
                .doc(doc)
                .argument(DEVICE)
                .required("name", ArgType.STRING, "snapshot name")
                .handler(args -> call.call(BlockCommands.export(exports, args), args.string("name")));
    }

    private static Map<String, Object> reset(
            ExportRegistry exports, TriggerEngine triggers, String device, boolean release, String snapshot) {
        List<Export> chosen = BlockCommands.exportOrAll(exports, device);
        if (snapshot != null) {
            for (Export e : chosen) {
                if (e.snapshots().stream().noneMatch(s -> s.name().equals(snapshot))) {
                    throw QmpError.generic("export '%s' has no snapshot '%s'", e.name(), snapshot);
                }
            }
        }
        // Triggers first, so none fires while the export is being cleared.
        int removedTriggers = device == null
                ? triggers.clear().size()
                : triggers.removeNaming(chosen.getFirst().name()).size();
        List<Object> reports = new ArrayList<>();
        for (Export e : chosen) {
            ResetReport r = ExportCall.run(e, () -> e.reset(release, snapshot));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", e.name());
            m.put("fault-rules", r.faultRules());
            m.put("held-failed", r.heldFailed());
            m.put("held-released", r.heldReleased());
            m.put("blkdebug-rules", r.blkdebugRules());
            m.put("breakpoints", r.breakpoints());
            m.put("suspended-resumed", r.suspendedResumed());
            m.put("flush-error-disarmed", r.flushErrorDisarmed());
            if (r.revert() != null) {
                m.put("reverted", revert(r.revert()));
            }
            reports.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("triggers", removedTriggers);
        out.put("exports", reports);
        return out;
    }

    static Map<String, Object> info(SnapshotVolume.Snapshotted s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("time", s.time().toString());
        m.put("bytes-changed-since", s.bytesChangedSince());
        return m;
    }

    static Map<String, Object> revert(SnapshotRevert r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("bytes-reverted", r.bytesReverted());
        m.put("cache-bytes-dropped", r.cacheBytesDropped());
        m.put("cache-ranges-dropped", r.cacheRangesDropped());
        return m;
    }
}
