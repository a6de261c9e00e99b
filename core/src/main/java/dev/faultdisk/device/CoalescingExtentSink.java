package dev.faultdisk.device;

/**
 * Joins neighbouring extents of the same flags before they reach {@code downstream}: a layer that
 * finds its extents piece by piece (a snapshot's deltas block by block, a write cache's extents
 * between the medium's, memory pages) then reports a zeroed gibibyte as one extent, not 262,144.
 * {@link #finish} hands on the last one.
 */
public final class CoalescingExtentSink implements ExtentSink {
    private final ExtentSink downstream;
    private long runLength;
    private int runFlags = -1;
    private boolean stopped;

    public CoalescingExtentSink(ExtentSink downstream) {
        this.downstream = downstream;
    }

    @Override
    public boolean accept(long length, int flags) {
        if (stopped) {
            return false;
        }
        if (flags == runFlags) {
            runLength += length;
            return true;
        }
        if (runLength > 0 && !downstream.accept(runLength, runFlags)) {
            stopped = true;
            return false;
        }
        runLength = length;
        runFlags = flags;
        return true;
    }

    /** Hands on the extent still held, unless the downstream sink stopped. */
    public void finish() {
        if (!stopped && runLength > 0) {
            downstream.accept(runLength, runFlags);
        }
        runLength = 0;
    }
}
