package dev.faultdisk.server;

import dev.faultdisk.device.DeviceStats;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** query-block and query-blockstats: the exports, as QEMU describes its block devices. */
final class BlockCommands {
    /** The argument naming the export a command acts on, as QEMU names a block device. */
    static final Argument DEVICE = Argument.required("device", ArgType.STRING, "export name");

    /** The argument of a query that reports on every export unless it names one. */
    static final Argument ONE_EXPORT = Argument.optional("device", ArgType.STRING, "only this export");

    private BlockCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports, NbdServer nbd) {
        commands.register(QmpCommand.builder("query-block")
                .doc("""
                        Lists the exports in QEMU's query-block shape: device (the export name), inserted.file (what
                        backs it), inserted.ro, inserted.image.virtual-size, plus faultdisk's own size, read-only,
                        backing, connections, uri (the export's NBD URI for a client on this host) and blkdebug (state,
                        rules, armed) fields.""")
                .returns("[BlockInfo]")
                .example("-> {\"execute\": \"query-block\"}")
                .example("<- {\"return\": [{\"device\": \"disk0\", \"locked\": false, \"removable\": false, "
                        + "\"type\": \"unknown\", \"inserted\": {...}, \"size\": 1073741824, ...}]}")
                .handler(args ->
                        exports.all().stream().map(e -> blockInfo(e, nbd)).toList())
                .build());
        commands.register(QmpCommand.builder("query-blockstats")
                .doc("Per-export operation counters: operations, bytes and errors per operation.")
                .argument(ONE_EXPORT)
                .returns("[BlockStats]")
                .handler(args -> {
                    List<Object> out = new ArrayList<>();
                    for (Export e : exports.all()) {
                        if (args.has("device") && !args.string("device").equals(e.name())) {
                            continue;
                        }
                        out.add(stats(e));
                    }
                    if (args.has("device") && out.isEmpty()) {
                        throw QmpError.deviceNotFound(args.string("device"), exports.names());
                    }
                    return out;
                })
                .build());
    }

    /** The export the arguments name in "device" (DeviceNotFound if there is none). */
    static Export export(ExportRegistry exports, Members args) {
        return export(exports, args.string("device"));
    }

    /** The export called {@code name}, or QEMU's DeviceNotFound error. */
    static Export export(ExportRegistry exports, String name) {
        return exports.find(name)
                .filter(e -> !name.isEmpty())
                .orElseThrow(() -> QmpError.deviceNotFound(name, exports.names()));
    }

    /** The export called {@code name}, or every export when {@code name} is null. */
    static List<Export> exportOrAll(ExportRegistry exports, String name) {
        return name == null ? exports.all() : List.of(export(exports, name));
    }

    private static Map<String, Object> blockInfo(Export e, NbdServer nbd) {
        Map<String, Object> image = new LinkedHashMap<>();
        image.put("filename", e.backend().describe());
        image.put("format", "raw");
        image.put("virtual-size", e.size());
        Map<String, Object> inserted = new LinkedHashMap<>();
        inserted.put("file", e.backend().describe());
        inserted.put("ro", e.isReadOnly());
        inserted.put("drv", "raw");
        inserted.put("image", image);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("device", e.name());
        info.put("locked", false);
        info.put("removable", false);
        info.put("type", "unknown");
        info.put("inserted", inserted);
        info.put("size", e.size());
        info.put("read-only", e.isReadOnly());
        info.put("backing", e.backend().describe());
        info.put("description", e.description());
        info.put("connections", nbd.connectionCount(e));
        info.put("uri", nbd.uri(e.name()));
        info.put("blkdebug", BlkdebugCommands.describeRules(e.blkdebug()));
        return info;
    }

    private static Map<String, Object> stats(Export e) {
        Map<String, Object> ops = new LinkedHashMap<>();
        DeviceStats s = e.stats();
        for (BlockOp op : BlockOp.values()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("operations", s.ops(op));
            one.put("bytes", s.bytes(op));
            one.put("errors", s.errors(op));
            ops.put(DeviceStats.statName(op), one);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("device", e.name());
        out.put("stats", ops);
        return out;
    }
}
