package dev.faultdisk.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a power failure lost, as {@code power-fail} replies. The same seed and the same history
 * give the same report.
 *
 * @param lostRanges byte ranges whose acknowledged data is gone
 */
public record PowerFailReport(PowerFailMode mode, long seed, long dirtyWrites, long dirtyBytes, long writesKept,
                              long writesTorn, long writesLost, long bytesKept, long bytesLost, List<Range> lostRanges) {

    /** A byte range of the export. */
    public record Range(long offset, long length) {
    }

    /** From the JSON form. */
    public static PowerFailReport from(Object value) {
        Map<String, Object> m = Values.object(value, "power-fail reply");
        List<Range> ranges = new ArrayList<>();
        for (Object r : Values.list(m, "lost-ranges")) {
            Map<String, Object> one = Values.object(r, "lost-ranges[]");
            ranges.add(new Range(Values.integer(one, "offset"), Values.integer(one, "length")));
        }
        return new PowerFailReport(PowerFailMode.of(Values.string(m, "mode")), Values.integer(m, "seed"),
                Values.integer(m, "dirty-writes"), Values.integer(m, "dirty-bytes"), Values.integer(m, "writes-kept"),
                Values.integer(m, "writes-torn"), Values.integer(m, "writes-lost"), Values.integer(m, "bytes-kept"),
                Values.integer(m, "bytes-lost"), List.copyOf(ranges));
    }
}
