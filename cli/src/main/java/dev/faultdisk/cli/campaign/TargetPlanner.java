package dev.faultdisk.cli.campaign;

import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.filemap.Owner;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A campaign's targets from its trace run. Each traced request's owners (by the file map after the
 * run, the map before for what was gone by then) are grouped per node into rows ({@link Access});
 * the rows the campaign asks for become targets: files matching its globs, structures if asked,
 * a file cut into pieces if asked.
 */
final class TargetPlanner {
    private final List<PathMatcher> wanted;
    private final boolean structures;
    private final int pieces;

    /**
     * @param files      globs of the files to aim at (relative to the mount point), or none for all
     * @param structures whether file-system structures are aimed at too
     * @param pieces     parts a file is cut into: 1 the whole file, 0 one per 4 KiB block
     */
    TargetPlanner(List<String> files, boolean structures, int pieces) {
        this.wanted = files.stream()
                .map(g -> FileSystems.getDefault().getPathMatcher("glob:" + g))
                .toList();
        this.structures = structures;
        this.pieces = pieces;
    }

    /** One node's rows by label: what its traced requests touched. */
    static Map<String, Access> accesses(List<Tracer.Request> traced, FileMap after, FileMap before, Path mount) {
        Map<String, Access> byLabel = new TreeMap<>();
        for (Tracer.Request r : traced) {
            for (Owner o : owners(after, before, r)) {
                String rel = o.kind() == Owner.Kind.METADATA ? null : relative(mount.toString(), o.name());
                byLabel.computeIfAbsent(
                                label(o, rel), k -> new Access(k, o.kind().wireName(), rel))
                        .add(r.write(), o.deviceOffset(), o.length(), o.fileOffset());
            }
        }
        return byLabel;
    }

    /** Owners of a request by the map after the run, falling back on the one before for gaps. */
    private static List<Owner> owners(FileMap after, FileMap before, Tracer.Request r) {
        List<Owner> out = new ArrayList<>();
        for (Owner o : after.owners(r.offset(), r.length())) {
            if (o.kind() == Owner.Kind.UNOWNED) {
                out.addAll(before.knownOwners(o.deviceOffset(), o.length()));
            } else {
                out.add(o);
            }
        }
        return out;
    }

    private static String relative(String mount, String path) {
        return path.equals(mount) ? "." : path.startsWith(mount + "/") ? path.substring(mount.length() + 1) : path;
    }

    /** The table's row for an owner: a path with long hex runs as *, "dir PATH", or the structure. */
    static String label(Owner o, String rel) {
        return switch (o.kind()) {
            case FILE -> rel.replaceAll("[0-9a-fA-F]{8,}", "*");
            case DIRECTORY -> "dir " + rel.replaceAll("[0-9a-fA-F]{8,}", "*");
            case METADATA, UNOWNED -> o.name();
        };
    }

    /** The targets of every node's rows, with each node's role ("" where none is known). */
    List<Target> targets(Map<String, Map<String, Access>> accesses, Map<String, String> roles) {
        List<Target> out = new ArrayList<>();
        accesses.forEach((node, byLabel) -> {
            for (Access a : byLabel.values()) {
                boolean isPath = a.path != null;
                if (isPath && !wanted.isEmpty() && wanted.stream().noneMatch(m -> m.matches(Path.of(a.path)))) {
                    continue;
                }
                if (!isPath && (!structures || a.kind.equals("unowned"))) {
                    continue;
                }
                String role = roles.getOrDefault(node, "");
                if (isPath) {
                    out.addAll(pieces(node, role, a));
                    continue;
                }
                List<List<Long>> ranges = new ArrayList<>();
                for (long[] r : a.ranges) {
                    ranges.add(List.of(r[0], r[1] - r[0]));
                }
                out.add(new Target(node, role, a.label, a.kind, a.path, ranges, a.reads, a.writes, 0, -1));
            }
        });
        return out;
    }

    /**
     * A file's targets: the whole file, or with {@code pieces} above 1 (or 0: one per 4 KiB block)
     * the span of the file the trace saw touched cut into that many parts (4 KiB aligned), each a
     * row of its own ({@code PATH [0K,64K)}), kept where the trace saw an access: a log's head and
     * tail, a database's meta pages and its data, as the 2017 study aimed at each block.
     */
    private List<Target> pieces(String node, String role, Access a) {
        if (pieces == 1 || a.fileMax <= a.fileMin) {
            return List.of(new Target(node, role, a.label, a.kind, a.path, List.of(), a.reads, a.writes, 0, -1));
        }
        long span = a.fileMax - a.fileMin;
        long size = pieces == 0 ? 4096 : Math.max(4096, (span / pieces + 4095) / 4096 * 4096);
        long start = a.fileMin / 4096 * 4096;
        List<Target> out = new ArrayList<>();
        for (long from = start; from < a.fileMax; from += size) {
            long reads = Access.overlapping(a.readRanges, from, from + size);
            long writes = Access.overlapping(a.writeRanges, from, from + size);
            if (reads + writes == 0) {
                continue;
            }
            String label = a.label + " [" + from / 1024 + "K," + (from + size) / 1024 + "K)";
            out.add(new Target(node, role, label, a.kind, a.path, List.of(), reads, writes, from, size));
        }
        return out;
    }
}
