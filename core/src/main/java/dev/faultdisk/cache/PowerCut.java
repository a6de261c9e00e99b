package dev.faultdisk.cache;

import dev.faultdisk.cache.DirtyMap.Extent;
import dev.faultdisk.wire.PowerFailMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Decides which dirty bytes survive a power failure. Pure: the same extents, mode and seed give
 * the same plan. Random choices are drawn write by write in sequence order (the order the cache
 * accepted them) and, for torn writes, sector by sector in offset order, so a plan depends only
 * on the history of requests and the seed.
 */
final class PowerCut {
    /**
     * A piece tears in at most this many units: 512-byte sectors up to 32 MiB (every write, the
     * largest payload), larger sector multiples beyond (zeroes and trims of gigabytes, or of
     * terabytes in one request with NBD's extended headers, which a draw per sector would turn
     * into billions of draws and pieces).
     */
    static final long MAX_TEAR_UNITS = 1 << 16;

    /** Pieces to persist, pieces to drop, and the per-write tallies. */
    record Plan(
            List<Extent> keep,
            List<Extent> lose,
            int writes,
            long bytes,
            int writesKept,
            int writesTorn,
            int writesLost) {}

    private PowerCut() {}

    static Plan plan(List<Extent> extents, PowerFailMode mode, long seed) {
        TreeMap<Long, List<Extent>> bySeq = new TreeMap<>();
        long bytes = 0;
        for (Extent e : extents) {
            bySeq.computeIfAbsent(e.seq(), s -> new ArrayList<>()).add(e);
            bytes += e.length();
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<Extent> keep = new ArrayList<>();
        List<Extent> lose = new ArrayList<>();
        int kept = 0;
        int torn = 0;
        int lost = 0;
        for (List<Extent> pieces : bySeq.values()) {
            pieces.sort(Comparator.comparingLong(Extent::start));
            long keptBytes = 0;
            long lostBytes = 0;
            switch (mode) {
                case DROP_ALL -> {
                    lose.addAll(pieces);
                    lostBytes = 1;
                }
                case RANDOM_SUBSET -> {
                    boolean survives = random.nextBoolean();
                    (survives ? keep : lose).addAll(pieces);
                    keptBytes = survives ? 1 : 0;
                    lostBytes = survives ? 0 : 1;
                }
                case TORN_WRITES -> {
                    for (Extent piece : pieces) {
                        long[] tally = tear(piece, random, keep, lose);
                        keptBytes += tally[0];
                        lostBytes += tally[1];
                    }
                }
            }
            if (keptBytes > 0 && lostBytes > 0) {
                torn++;
            } else if (keptBytes > 0) {
                kept++;
            } else {
                lost++;
            }
        }
        return new Plan(keep, lose, bySeq.size(), bytes, kept, torn, lost);
    }

    /**
     * Keeps or drops each 512-byte device sector of a piece (one draw per sector, in order), or
     * each of {@link #MAX_TEAR_UNITS} equal runs of sectors of a larger piece; neighbouring units
     * with the same fate go out as one piece. Returns {kept, lost} bytes.
     */
    private static long[] tear(Extent piece, SplittableRandom random, List<Extent> keep, List<Extent> lose) {
        long sectors = (piece.length() + PowerFailMode.SECTOR - 1) / PowerFailMode.SECTOR;
        long unit = PowerFailMode.SECTOR * ((sectors + MAX_TEAR_UNITS - 1) / MAX_TEAR_UNITS);
        long[] tally = new long[2];
        long runStart = piece.start();
        boolean runKept = false;
        long pos = piece.start();
        while (pos < piece.end()) {
            long next = Math.min(piece.end(), (pos / unit + 1) * unit);
            boolean kept = random.nextBoolean();
            if (pos > runStart && kept != runKept) {
                (runKept ? keep : lose).add(new Extent(runStart, pos, piece.seq(), piece.kind()));
                runStart = pos;
            }
            runKept = kept;
            tally[kept ? 0 : 1] += next - pos;
            pos = next;
        }
        (runKept ? keep : lose).add(new Extent(runStart, piece.end(), piece.seq(), piece.kind()));
        return tally;
    }

    /** Merges pieces into maximal contiguous ranges, in offset order. */
    static List<ByteRange> merge(List<Extent> pieces) {
        List<Extent> sorted = new ArrayList<>(pieces);
        sorted.sort(Comparator.comparingLong(Extent::start));
        List<ByteRange> out = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (Extent e : sorted) {
            if (e.start() == end) {
                end = e.end();
                continue;
            }
            if (start >= 0) {
                out.add(new ByteRange(start, end - start));
            }
            start = e.start();
            end = e.end();
        }
        if (start >= 0) {
            out.add(new ByteRange(start, end - start));
        }
        return out;
    }
}
