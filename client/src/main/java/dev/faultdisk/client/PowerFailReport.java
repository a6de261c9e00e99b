package dev.faultdisk.client;

import dev.faultdisk.wire.PowerFailMode;
import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.List;

/**
 * What a power failure lost, as {@code power-fail} replies. The same seed and the same history
 * give the same report.
 *
 * @param lostRanges byte ranges whose acknowledged data is gone
 */
public record PowerFailReport(
        PowerFailMode mode,
        long seed,
        long dirtyWrites,
        long dirtyBytes,
        long writesKept,
        long writesTorn,
        long writesLost,
        long bytesKept,
        long bytesLost,
        List<Range> lostRanges) {

    /** A byte range of the export. */
    public record Range(long offset, long length) {}

    /** From the JSON form. */
    public static PowerFailReport from(Object value) {
        Members m = Replies.object(value, "power-fail reply");
        List<Range> ranges = new ArrayList<>();
        for (Object r : m.list("lost-ranges")) {
            Members one = Replies.object(r, "lost-ranges[]");
            ranges.add(new Range(one.integer("offset"), one.integer("length")));
        }
        return new PowerFailReport(
                PowerFailMode.parse(m.string("mode")),
                m.integer("seed"),
                m.integer("dirty-writes"),
                m.integer("dirty-bytes"),
                m.integer("writes-kept"),
                m.integer("writes-torn"),
                m.integer("writes-lost"),
                m.integer("bytes-kept"),
                m.integer("bytes-lost"),
                List.copyOf(ranges));
    }
}
