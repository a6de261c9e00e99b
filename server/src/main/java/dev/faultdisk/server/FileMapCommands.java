package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.DEVICE;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.filemap.Extent;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.filemap.Owner;
import dev.faultdisk.filemap.Structure;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * File maps (docs/FILEMAP.md): an export bound to the file system mounted from it, so that fault
 * rules and triggers may aim at a file, and faults name the file they hit. file-map-attach,
 * file-map-refresh, file-map-detach and query-file-map.
 */
final class FileMapCommands {
    /** Most owners or extents one query returns. */
    private static final int MAX_ITEMS = 10_000;

    private FileMapCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports) {
        commands.register(QmpCommand.builder("file-map-attach")
                .doc("""
                        Binds an export to the file system mounted from it on this host (through nbdfuse and a loop
                        device, or nbd-client) and maps every file and directory with FIEMAP, and the file system's
                        structures (ext4: dumpe2fs and debugfs; XFS: xfs_db). From then on, fault rules and trigger
                        conditions may name a "file" (with "file-offset" and "file-length"), and injected faults
                        name the files their request touched.""")
                .argument(DEVICE)
                .required("mount", ArgType.STRING, "the mount point of the export's file system")
                .returns("FileMapInfo")
                .example("-> {\"execute\": \"file-map-attach\", \"arguments\": {\"device\": \"n1\", \"mount\": "
                        + "\"/srv/n1\"}}")
                .example("<- {\"return\": {\"mount\": \"/srv/n1\", \"source\": \"/dev/loop3\", \"fs-type\": "
                        + "\"ext4\", \"files\": 12, \"structures\": 9}}")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    return info(ExportCall.run(e, () -> e.faults().files().attach(Path.of(args.string("mount")))));
                })
                .build());
        commands.register(QmpCommand.builder("file-map-refresh")
                .doc("""
                        Maps the export's file system again and re-resolves every file target of its fault rules and
                        triggers: a file that grew is covered whole from now on, a removed one covers nothing. Returns
                        the new map's summary and, per target file, the bytes it covers.""")
                .argument(DEVICE)
                .returns("FileMapInfo")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    FileBinding b = e.faults().files();
                    Map<String, Long> targets = ExportCall.run(e, b::refresh);
                    Map<String, Object> out = info(b.map().orElseThrow());
                    out.put("targets", targets);
                    return out;
                })
                .build());
        commands.register(QmpCommand.builder("file-map-detach")
                .doc("Forgets the export's file map; rules already resolved keep their byte ranges.")
                .argument(DEVICE)
                .handler(args -> {
                    BlockCommands.export(exports, args).faults().files().detach();
                    return Map.of();
                })
                .build());
        commands.register(QmpCommand.builder("query-file-map")
                .doc("""
                        With "file": the file's extents on the export now (file-offset, offset, length). With
                        "offset" and "length": what holds each part of that range of the export (files with the
                        offset in them, directories, file-system structures, unowned gaps), as of the last attach or
                        refresh. With neither: the map's summary and the structures.""")
                .argument(DEVICE)
                .optional("file", ArgType.STRING, "a file, absolute or relative to the mount point")
                .optional("offset", ArgType.INT, "start of the range")
                .optional("length", ArgType.INT, "length of the range")
                .returns("FileMapQuery")
                .example("-> {\"execute\": \"query-file-map\", \"arguments\": {\"device\": \"n1\", \"offset\": "
                        + "1052672, \"length\": 4096}}")
                .example("<- {\"return\": {\"owners\": [{\"kind\": \"file\", \"name\": "
                        + "\"/srv/n1/member/snap/db\", \"file-offset\": 8192, \"offset\": 1052672, \"length\": "
                        + "4096}]}}")
                .handler(args -> query(
                        BlockCommands.export(exports, args),
                        args.string("file", null),
                        args.has("offset") ? args.integer("offset") : -1,
                        args.has("length") ? args.integer("length") : -1))
                .build());
    }

    private static Map<String, Object> query(Export e, String file, long offset, long length) {
        FileMap map = e.faults()
                .files()
                .map()
                .orElseThrow(
                        () -> QmpError.generic("export '%s' has no file map: run file-map-attach first", e.name()));
        Map<String, Object> out = new LinkedHashMap<>();
        if (file != null) {
            Path p = map.source().mountPoint().resolve(file).normalize();
            if (!p.startsWith(map.source().mountPoint())) {
                throw QmpError.generic(
                        "'%s' is not under the mount point %s",
                        file, map.source().mountPoint());
            }
            List<Extent> extents = ExportCall.run(e, () -> FileMap.resolve(map.source(), p));
            List<Object> list = new ArrayList<>();
            for (Extent x : extents.subList(0, Math.min(extents.size(), MAX_ITEMS))) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file-offset", x.fileOffset());
                m.put("offset", x.deviceOffset());
                m.put("length", x.length());
                if (x.unwritten()) {
                    m.put("unwritten", true);
                }
                list.add(m);
            }
            out.put("file", p.toString());
            out.put("extents", list);
            return out;
        }
        if (offset >= 0 || length >= 0) {
            if (offset < 0 || length <= 0 || offset > e.size() || length > e.size() - offset) {
                throw QmpError.generic(
                        "offset and length must give a non-empty range inside the export (%d bytes)", e.size());
            }
            List<Object> owners = new ArrayList<>();
            for (Owner o : map.owners(offset, length)) {
                if (owners.size() == MAX_ITEMS) {
                    break;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("kind", o.kind().wireName());
                m.put("name", o.name());
                if (o.fileOffset() >= 0) {
                    m.put("file-offset", o.fileOffset());
                }
                m.put("offset", o.deviceOffset());
                m.put("length", o.length());
                owners.add(m);
            }
            out.put("owners", owners);
            return out;
        }
        out.putAll(info(map));
        List<Object> structures = new ArrayList<>();
        for (Structure s : map.structures()) {
            if (structures.size() == MAX_ITEMS) {
                break;
            }
            structures.add(Map.of("name", s.name(), "offset", s.deviceOffset(), "length", s.length()));
        }
        out.put("structure-list", structures);
        return out;
    }

    private static Map<String, Object> info(FileMap map) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mount", map.source().mountPoint().toString());
        m.put("source", map.source().device());
        m.put("fs-type", map.source().fsType());
        m.put("files", map.files().size());
        m.put("structures", map.structures().size());
        return m;
    }
}
