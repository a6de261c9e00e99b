package dev.faultdisk.cli.campaign;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one node did to one file or structure in the trace run: reads and writes counted, and
 * the export ranges it touched (for structures, which are aimed at by range).
 */
final class Access {
    final String label;
    final String kind;
    final String path;
    long reads;
    long writes;
    long readBytes;
    long writeBytes;
    final List<long[]> ranges = new ArrayList<>();

    Access(String label, String kind, String path) {
        this.label = label;
        this.kind = kind;
        this.path = path;
    }

    void add(boolean write, long offset, long length) {
        if (write) {
            writes++;
            writeBytes += length;
        } else {
            reads++;
            readBytes += length;
        }
        if (!ranges.isEmpty()) {
            long[] last = ranges.getLast();
            if (offset >= last[0] && offset <= last[1]) {
                last[1] = Math.max(last[1], offset + length);
                return;
            }
        }
        if (ranges.size() < 4096) {
            ranges.add(new long[] {offset, offset + length});
        }
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", label);
        m.put("kind", kind);
        if (path != null) {
            m.put("path", path);
        }
        m.put("reads", reads);
        m.put("writes", writes);
        m.put("read-bytes", readBytes);
        m.put("write-bytes", writeBytes);
        List<Object> r = new ArrayList<>();
        for (long[] x : ranges) {
            r.add(List.of(x[0], x[1] - x[0]));
        }
        m.put("ranges", r);
        return m;
    }
}
