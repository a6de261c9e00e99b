package dev.faultdisk.explore;

import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.filemap.Owner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Names what a byte range of the device belonged to, where the file system can tell. */
interface WriteNamer {
    /** How a range nothing owns ends. */
    String UNKNOWN = " (no owner known)";

    List<String> name(long offset, long length);

    /** Only the byte range. */
    static WriteNamer bytes() {
        return (offset, length) -> List.of(range(offset, length));
    }

    /** By the files and structures of {@code map} (scanned at {@code mountPoint}), else the byte range. */
    static WriteNamer of(FileMap map, Path mountPoint) {
        String root = mountPoint.toAbsolutePath().normalize().toString();
        return (offset, length) -> {
            List<String> out = new ArrayList<>();
            for (Owner o : map.knownOwners(offset, length)) {
                String name = o.name().startsWith(root) ? o.name().substring(root.length()) : o.name();
                String what = switch (o.kind()) {
                    case FILE -> "file " + name + (o.fileOffset() >= 0 ? " @" + o.fileOffset() : "");
                    case DIRECTORY -> "directory " + (name.isEmpty() ? "/" : name);
                    default -> name;
                };
                if (!out.contains(what)) {
                    out.add(what);
                }
            }
            if (out.isEmpty()) {
                out.add(range(offset, length) + UNKNOWN);
            }
            return out;
        };
    }

    /**
     * By {@code inState} (the crash state's own files) where it knows an owner, else by
     * {@code afterRun} (the workload's final state), marked so; {@code inState} may be null.
     */
    static WriteNamer either(WriteNamer inState, WriteNamer afterRun) {
        if (inState == null) {
            return afterRun;
        }
        return (offset, length) -> {
            List<String> here = inState.name(offset, length);
            if (here.stream().noneMatch(n -> n.endsWith(UNKNOWN))) {
                return here;
            }
            List<String> out = new ArrayList<>();
            for (String n : afterRun.name(offset, length)) {
                out.add(n.endsWith(UNKNOWN) ? n : n + " (after the run)");
            }
            return out;
        };
    }

    static String range(long offset, long length) {
        return "bytes " + offset + "+" + length;
    }
}
