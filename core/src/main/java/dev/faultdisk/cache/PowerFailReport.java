package dev.faultdisk.cache;

import dev.faultdisk.wire.PowerFailMode;
import java.util.List;

/**
 * Exactly what a power failure did to the unflushed content of a write cache. Every dirty byte
 * was either kept (it reached the medium before the power went) or lost (the medium holds what
 * it held at the last flush). The same seed and the same history of requests give the same report.
 *
 * @param mode what the failure did to unflushed writes
 * @param seed the seed of its random choices
 * @param dirtyWrites writes, trims and write-zeroes that had dirty bytes at the cut
 * @param dirtyBytes dirty bytes at the cut
 * @param writesKept writes whose dirty bytes all survived
 * @param writesTorn writes that kept some dirty bytes and lost others
 * @param writesLost writes whose dirty bytes were all lost
 * @param bytesKept dirty bytes that survived
 * @param bytesLost dirty bytes that were lost
 * @param lostRanges the lost bytes as maximal contiguous ranges, in offset order
 */
public record PowerFailReport(
        PowerFailMode mode,
        long seed,
        int dirtyWrites,
        long dirtyBytes,
        int writesKept,
        int writesTorn,
        int writesLost,
        long bytesKept,
        long bytesLost,
        List<ByteRange> lostRanges) {

    public PowerFailReport {
        lostRanges = List.copyOf(lostRanges);
    }

    /** A one-line summary. */
    public String summary() {
        return "power failure (" + mode.label() + ", seed " + seed + "): " + dirtyWrites + " unflushed writes ("
                + dirtyBytes + " bytes); kept " + writesKept + ", torn " + writesTorn + ", lost " + writesLost
                + "; " + bytesLost + " bytes lost in " + lostRanges.size() + " ranges";
    }
}
