package dev.faultdisk.server;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.snapshot.CloneDevice;
import dev.faultdisk.trigger.TriggerEngine;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.json.Members;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Exports at run time: export-add (the spec of {@code serve --export}) and export-remove (its
 * connections closed cleanly first). An added export is wired by the same {@link ExportWiring}
 * as one from the command line. {@code exportSeeds} continues the stream the command line's
 * exports took their seeds from, so --seed covers these too.
 */
record ExportCommands(
        ExportRegistry exports,
        NbdServer nbd,
        ExportWiring wiring,
        TriggerEngine triggers,
        FaultJournal journal,
        FaultTime faultTime,
        SplittableRandom exportSeeds) {
    /** How long the connections of a removed export get to answer what they have read. */
    static final Duration REMOVE_GRACE = Duration.ofSeconds(5);

    void register(CommandRegistry commands) {
        commands.register(QmpCommand.builder("export-add")
                .doc("Adds an export while the server runs, exactly as serve --export NAME=SPEC would: SPEC is "
                        + "memory:SIZE, a path to a raw image (,size=SIZE creates it sparse), or blkdebug:CONF:IMAGE, "
                        + "with options ,readonly, ,rules=FILE, ,cache=MODE and ,locking=off. NBD clients see it at once "
                        + "(NBD_OPT_LIST); its events, journal entries, power cuts and triggers work as for any "
                        + "export. A taken name, a bad spec or a file that cannot be opened fail the call and "
                        + "change nothing. A server holds at most " + ExportRegistry.MAX_EXPORTS + " exports. "
                        + "With from instead of spec, the export is a clone: it serves what a snapshot of another "
                        + "export holds, copy-on-write and at once; its writes never reach the origin or its "
                        + "snapshots, and the origin goes on. A clone is a full export (faults, write cache in "
                        + "writethrough mode, snapshots of its own); its origin can not be removed while it exists.")
                .required("name", ArgType.STRING, "the export's name, as NBD clients ask for it")
                .optional("spec", ArgType.STRING, "what serve --export takes after NAME=; give spec or from")
                .argument(Argument.optional(
                                "from",
                                ArgType.OBJECT,
                                "the snapshot to clone: {\"device\": ORIGIN, \"snapshot\": NAME}; give spec or from")
                        .withTypeName("{\"device\": str, \"snapshot\": str}"))
                .returns("{\"name\": str, \"size\": int, \"read-only\": bool, \"description\": str}")
                .example("-> {\"execute\": \"export-add\", \"arguments\": {\"name\": \"scratch\", "
                        + "\"spec\": \"memory:64M,cache=writeback\"}}")
                .example("<- {\"return\": {\"name\": \"scratch\", \"size\": 67108864, \"read-only\": false, "
                        + "\"description\": \"...\"}}")
                .example("-> {\"execute\": \"export-add\", \"arguments\": {\"name\": \"try\", "
                        + "\"from\": {\"device\": \"disk0\", \"snapshot\": \"before-upgrade\"}}}")
                .example("<- {\"return\": {\"name\": \"try\", \"size\": 67108864, \"read-only\": false, "
                        + "\"description\": \"clone of disk0@before-upgrade (...)\"}}")
                .handler(args -> add(args.string("name"), args.string("spec", null), from(args)))
                .build());
        commands.register(QmpCommand.builder("export-remove")
                .doc("Removes an export: no new client can choose it; requests its fault rules hold fail "
                        + "(ESHUTDOWN) and requests held at its breakpoints go on; each of its NBD connections "
                        + "stops reading, answers the requests it has read and closes (after "
                        + REMOVE_GRACE.toSeconds() + " s the rest are dropped); then the export is flushed and "
                        + "closed. An export a trigger names can not be removed: remove the trigger first.")
                .required("name", ArgType.STRING, "the export's name")
                .returns("{\"connections\": int, \"held-failed\": int, \"suspended-released\": int}")
                .example("-> {\"execute\": \"export-remove\", \"arguments\": {\"name\": \"scratch\"}}")
                .example("<- {\"return\": {\"connections\": 1, \"held-failed\": 0, \"suspended-released\": 0}}")
                .handler(args -> remove(args.string("name")))
                .build());
    }

    /** The {@code from} member as {device, snapshot}, or null without one. */
    private static String[] from(Members args) {
        if (!args.has("from")) {
            return null;
        }
        Members from = args.object("from");
        from.rejectUnknown("device", "snapshot");
        return new String[] {from.string("device"), from.string("snapshot")};
    }

    private synchronized Map<String, Object> add(String name, String spec, String[] from) {
        if ((spec == null) == (from == null)) {
            throw QmpError.generic(
                    "export-add takes either spec or from, %s", spec == null ? "neither was given" : "not both");
        }
        if (exports.find(name).filter(e -> !name.isEmpty()).isPresent()) {
            throw QmpError.generic("export '%s' exists already", name);
        }
        if (exports.all().size() >= ExportRegistry.MAX_EXPORTS) {
            throw QmpError.generic("a server holds at most %d exports", ExportRegistry.MAX_EXPORTS);
        }
        Export export;
        try {
            if (from == null) {
                ExportSpec parsed = ExportSpec.parse(name, spec);
                exports.checkImageFree(parsed);
                export = Export.open(parsed, faultTime, exportSeeds.nextLong());
            } else {
                export = cloneExport(name, from[0], from[1]);
            }
        } catch (IllegalArgumentException | IOException e) {
            throw QmpError.generic("export '%s': %s", name, e.getMessage());
        }
        // Wired before it is listed: once listed, a client can choose it.
        wiring.wire(export);
        exports.add(export);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", export.name());
        out.put("size", export.size());
        out.put("read-only", export.isReadOnly());
        out.put("description", export.description());
        note("export-added", name);
        return out;
    }

    /** A writable export over a clone of snapshot {@code snapshot} of export {@code origin}. */
    private Export cloneExport(String name, String origin, String snapshot) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a clone needs a name");
        }
        CloneDevice backend = BlockCommands.export(exports, origin).cloneOf(snapshot);
        return new Export(
                name, backend, false, new BlkdebugEngine(), CacheMode.WRITETHROUGH, faultTime, exportSeeds.nextLong());
    }

    private synchronized Map<String, Object> remove(String name) {
        Export export = BlockCommands.export(exports, name);
        if (triggers.exportsInUse().contains(name)) {
            throw QmpError.generic(
                    "export '%s' is named by a trigger (see query-triggers); remove the trigger first", name);
        }
        if (export.hasClones()) {
            // A clone reads this export's medium, which closing it would close.
            throw QmpError.generic(
                    "export '%s' has clones (exports added from its snapshots); remove them first", name);
        }
        exports.remove(name);
        int held = export.faults().held().size();
        int suspended = export.blkdebug().suspended().size();
        // Free what is held first, so that each connection can answer everything it has read.
        export.faults().shutdown();
        export.blkdebug().shutdown();
        int connections = nbd.closeConnections(export, REMOVE_GRACE);
        try {
            export.close();
        } catch (IOException e) {
            throw QmpError.generic("export '%s' removed, but flushing it failed: %s", name, e.getMessage());
        } finally {
            note("export-removed", name);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("connections", connections);
        out.put("held-failed", held);
        out.put("suspended-released", suspended);
        return out;
    }

    private void note(String event, String name) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("event", event);
        entry.put("time", faultTime.clock().instant().toString());
        entry.put("device", name);
        journal.note(entry);
    }
}
