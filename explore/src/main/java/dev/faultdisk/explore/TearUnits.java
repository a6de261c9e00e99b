package dev.faultdisk.explore;

import java.util.ArrayList;
import java.util.List;

/**
 * The units a write may tear into: aligned {@code size}-byte pieces of the device (a sector: 4096
 * bytes on 4Kn and 512e drives, whose physical sectors are written whole; 512 to model old
 * drives), each given as the write's 512-byte blocks it holds, which is how the server takes a
 * torn write (history-materialize's "blocks").
 */
final class TearUnits {
    static final int BLOCK = 512;

    private TearUnits() {}

    /** The units of a write of {@code length} bytes at {@code offset}, in order. */
    static List<List<Integer>> of(long offset, long length, int size) {
        List<List<Integer>> units = new ArrayList<>();
        long end = offset + length;
        for (long unitStart = offset - Math.floorMod(offset, size); unitStart < end; unitStart += size) {
            List<Integer> blocks = new ArrayList<>();
            long from = Math.max(unitStart, offset);
            long to = Math.min(unitStart + size, end);
            for (long b = (from - offset) / BLOCK; b * BLOCK < to - offset; b++) {
                blocks.add((int) b);
            }
            units.add(List.copyOf(blocks));
        }
        return units;
    }
}
