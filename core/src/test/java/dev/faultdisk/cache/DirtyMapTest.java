package dev.faultdisk.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cache.DirtyMap.Extent;
import dev.faultdisk.cache.DirtyMap.Kind;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DirtyMapTest {
    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void newerWriteReplacesTheMiddleOfAnOlderOne() {
        DirtyMap map = new DirtyMap();
        map.put(0, 1000, 1, Kind.DATA, T0);
        List<Extent> replaced = map.put(200, 300, 2, Kind.ZERO, T0.plusSeconds(1));
        assertEquals(List.of(new Extent(200, 300, 1, Kind.DATA)), replaced);
        assertEquals(
                List.of(
                        new Extent(0, 200, 1, Kind.DATA),
                        new Extent(200, 300, 2, Kind.ZERO),
                        new Extent(300, 1000, 1, Kind.DATA)),
                map.all());
        assertEquals(1000, map.dirtyBytes());
        assertEquals(2, map.writeCount());
        assertEquals(1, map.mergedRangeCount());
        assertEquals(T0, map.oldestCachedAt());
    }

    @Test
    void removingEveryPieceOfAWriteForgetsItsAge() {
        DirtyMap map = new DirtyMap();
        map.put(0, 100, 1, Kind.DATA, T0);
        map.put(500, 600, 2, Kind.DATA, T0.plusSeconds(5));
        map.put(50, 150, 3, Kind.TRIM, T0.plusSeconds(9));
        assertEquals(2, map.mergedRangeCount());
        List<Extent> removed = map.remove(0, 150);
        assertEquals(List.of(new Extent(0, 50, 1, Kind.DATA), new Extent(50, 150, 3, Kind.TRIM)), removed);
        assertEquals(T0.plusSeconds(5), map.oldestCachedAt());
        assertEquals(100, map.dirtyBytes());
        assertEquals(List.of(new Extent(550, 600, 2, Kind.DATA)), map.overlapping(550, 700));
        assertTrue(map.intersects(599, 600));
        assertFalse(map.intersects(600, 700));
        assertFalse(map.intersects(0, 500));
        map.remove(0, 1000);
        assertTrue(map.isEmpty());
        assertNull(map.oldestCachedAt());
        assertEquals(0, map.dirtyBytes());
    }

    @Test
    void adjacentExtentsMergeIntoOneRange() {
        DirtyMap map = new DirtyMap();
        map.put(100, 200, 1, Kind.DATA, T0);
        map.put(200, 300, 2, Kind.ZERO, T0);
        map.put(400, 500, 3, Kind.DATA, T0);
        List<long[]> ranges = map.mergedRanges();
        assertEquals(2, ranges.size());
        assertEquals(100, ranges.get(0)[0]);
        assertEquals(300, ranges.get(0)[1]);
        assertEquals(400, ranges.get(1)[0]);
        assertEquals(500, ranges.get(1)[1]);
        assertEquals(
                List.of(new Extent(150, 200, 1, Kind.DATA), new Extent(200, 250, 2, Kind.ZERO)),
                map.overlapping(150, 250));
    }
}
