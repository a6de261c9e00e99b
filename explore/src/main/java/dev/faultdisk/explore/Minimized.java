package dev.faultdisk.explore;

import java.util.List;

/**
 * A failing crash state cut down by delta debugging to a set of lost writes (or lost blocks of
 * a torn write) that still fails the same way: dropping any one fewer makes it pass.
 *
 * @param state the failing state it started from
 * @param verdict how it fails
 * @param dropped the minimal set, each with what it belonged to
 * @param tests crash states checked to get there
 * @param complete false if the test budget ran out first (the set is smaller than the start, maybe not minimal)
 * @param reproducer the state the minimal set gives (every other pending write landed)
 */
public record Minimized(
        int state, Verdict verdict, List<Dropped> dropped, int tests, boolean complete, PlannedState reproducer) {

    /**
     * A write that did not land (whole, or the blocks listed).
     *
     * @param entry its log entry
     * @param offset its first byte on the device
     * @param length its bytes (of the blocks, for a torn one)
     * @param blocks for a torn write, the 512-byte blocks that did not land; else empty
     * @param owners what the bytes belonged to (files, file-system structures), or its byte range
     */
    public record Dropped(long entry, long offset, long length, List<Integer> blocks, List<String> owners) {}
}
