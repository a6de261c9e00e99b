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
    /** For files: the file offsets read and written, merged where they touch. */
    final List<long[]> readRanges = new ArrayList<>();

    final List<long[]> writeRanges = new ArrayList<>();
    long fileMin = Long.MAX_VALUE;
    long fileMax = -1;

    Access(String label, String kind, String path) {
        this.label = label;
        this.kind = kind;
        this.path = path;
    }

    void add(boolean write, long offset, long length, long fileOffset) {
        if (fileOffset >= 0) {
            fileMin = Math.min(fileMin, fileOffset);
            fileMax = Math.max(fileMax, fileOffset + length);
            merge(write ? writeRanges : readRanges, fileOffset, fileOffset + length);
        }
        if (write) {
            writes++;
            writeBytes += length;
        } else {
            reads++;
            readBytes += length;
        }
        merge(ranges, offset, offset + length);
    }

    /** Appends [from, to), merged into the last range when they touch; at most 4096 ranges. */
    private static void merge(List<long[]> list, long from, long to) {
        if (!list.isEmpty()) {
            long[] last = list.getLast();
            if (from >= last[0] && from <= last[1]) {
                last[1] = Math.max(last[1], to);
                return;
            }
        }
        if (list.size() < 4096) {
            list.add(new long[] {from, to});
        }
    }

    /** How many of {@code list}'s ranges overlap [from, to). */
    static long overlapping(List<long[]> list, long from, long to) {
        long n = 0;
        for (long[] r : list) {
            if (r[0] < to && r[1] > from) {
                n++;
            }
        }
        return n;
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
        if (fileMax >= 0) {
            m.put("file-span", List.of(fileMin, fileMax - fileMin));
        }
        return m;
    }
}
