package dev.faultdisk.cli.campaign;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one run aims at: a file (by the path it had in the trace, relative to the mount point)
 * or a file-system structure (by the export ranges the trace saw touched), on one node.
 *
 * @param node   the node's name
 * @param role   its role in the trace run ("" if the campaign has no role command)
 * @param label  the table's row: the path with long hexadecimal runs as *, or the structure's name
 * @param kind   file, directory or metadata
 * @param path   for a file or directory, its path relative to the mount point; else null
 * @param ranges for a structure, the [offset, length] ranges to aim at
 * @param reads  read requests the trace saw
 * @param writes write requests the trace saw
 * @param fileOffset with {@code fileLength}: the part of the file aimed at
 * @param fileLength its length, or -1 for the whole file
 */
record Target(
        String node,
        String role,
        String label,
        String kind,
        String path,
        List<List<Long>> ranges,
        long reads,
        long writes,
        long fileOffset,
        long fileLength) {

    /** A fault kind is tried only where the trace saw the node do what it acts on. */
    boolean worthTrying(FaultKind fault) {
        return fault == FaultKind.SLOW || (fault.onWrites() ? writes > 0 : reads > 0);
    }

    /** The run's id: node, label and fault kind, in letters, digits, '.', '_' and '-' only. */
    String runId(FaultKind fault) {
        return (node + "-" + label + "-" + fault.wireName()).replaceAll("[^A-Za-z0-9._-]+", "_");
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("role", role);
        m.put("label", label);
        m.put("kind", kind);
        if (path != null) {
            m.put("path", path);
        }
        if (!ranges.isEmpty()) {
            m.put("ranges", ranges);
        }
        m.put("reads", reads);
        m.put("writes", writes);
        if (fileLength > 0) {
            m.put("file-offset", fileOffset);
            m.put("file-length", fileLength);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    static Target fromJson(Map<String, Object> m) {
        List<List<Long>> ranges = new java.util.ArrayList<>();
        for (Object r : (List<Object>) m.getOrDefault("ranges", List.of())) {
            List<Object> pair = (List<Object>) r;
            ranges.add(List.of(((Number) pair.get(0)).longValue(), ((Number) pair.get(1)).longValue()));
        }
        return new Target(
                (String) m.get("node"),
                (String) m.get("role"),
                (String) m.get("label"),
                (String) m.get("kind"),
                (String) m.get("path"),
                ranges,
                ((Number) m.getOrDefault("reads", 0)).longValue(),
                ((Number) m.getOrDefault("writes", 0)).longValue(),
                ((Number) m.getOrDefault("file-offset", 0)).longValue(),
                ((Number) m.getOrDefault("file-length", -1)).longValue());
    }
}
