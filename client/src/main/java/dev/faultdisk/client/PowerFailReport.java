package dev.faultdisk.client;

import dev.faultdisk.wire.PowerFailMode;
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
        return ReplyRecord.read(PowerFailReport.class, value, "power-fail reply");
    }
}
