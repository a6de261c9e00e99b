package dev.faultdisk.device;

import java.util.Arrays;

/**
 * Runs of an image file known to hold data (a dense image's one run from its opening), so that a
 * large read wholly inside one may go out straight from the file ({@link FileDevice#readSource})
 * while reads that touch a hole go the usual way: on tmpfs a read through a mapping allocates the holes it touches. A run is learnt from
 * SEEK_DATA and SEEK_HOLE when a read needs it and kept, because on tmpfs SEEK_HOLE costs in
 * proportion to the data it passes (12-26 ms for 1 GiB); one seek for each read would cost more
 * than the copy it saves. A run learnt stays data until the device punches into it (writes only
 * add data), so {@link #forget} drops the runs a punched range overlaps before the hole appears. At most
 * {@link #MAX_RUNS} are kept: past that, all are forgotten and learnt again.
 *
 * <p>Reads are lock-free on an array replaced whole; learning and forgetting take the lock.
 */
final class DataRuns {
    static final int MAX_RUNS = 4096;

    private final int fd;
    /** Starts and ends, {@code [s0, e0, s1, e1, ...]}: sorted, neither overlapping nor touching. */
    private volatile long[] runs = new long[0];
    /** Bumped by each {@link #forget}: a run seen before it is not learnt after it (it may be a hole now). */
    private long forgets;

    /** {@code fd}: a descriptor of the image for lseek; negative if none (nothing is ever learnt). */
    DataRuns(int fd) {
        this.fd = fd;
    }

    /** True if every byte of {@code [start, end)} is data: known, or learnt now. */
    boolean allData(long start, long end) {
        if (covered(runs, start, end)) {
            return true;
        }
        long seen = forgetsSoFar();
        if (LinuxFiles.seekData(fd, start) != start) {
            return false; // a hole at start, or no answer
        }
        long hole = LinuxFiles.seekHole(fd, start);
        if (hole < end) {
            return false; // a run that ends inside the read is not worth keeping: it serves no read like it
        }
        learn(start, hole, seen);
        return true;
    }

    /**
     * The range is about to become a hole (or may): every run it overlaps is forgotten whole (the
     * data beside the range is learnt again when a read needs it). Whole, not cut around the range:
     * cut, each trim of a known run would add one, and a run of trims at random would grow the
     * array by one a trim and copy it each time (seen: 7,700 trims a second instead of 80,000).
     */
    synchronized void forget(long start, long end) {
        forgets++;
        long[] old = runs;
        int last = lastStartingBefore(old, end);
        if (last < 0 || old[2 * last + 1] <= start) {
            return; // no run overlaps the range: nothing to copy (a trim at a time, thousands a second)
        }
        int first = last;
        while (first > 0 && old[2 * (first - 1) + 1] > start) {
            first--;
        }
        long[] kept = new long[old.length - 2 * (last - first + 1)];
        System.arraycopy(old, 0, kept, 0, 2 * first);
        System.arraycopy(old, 2 * (last + 1), kept, 2 * first, old.length - 2 * (last + 1));
        runs = kept;
    }

    /** Runs known now (for tests): starts and ends. */
    long[] known() {
        return runs.clone();
    }

    private synchronized long forgetsSoFar() {
        return forgets;
    }

    private synchronized void learn(long start, long end, long seen) {
        if (forgets != seen) {
            return; // a punch since the seeks: what they found may be a hole now
        }
        long[] old = runs.length / 2 >= MAX_RUNS ? new long[0] : runs;
        long[] merged = new long[old.length + 2];
        int n = 0;
        int i = 0;
        while (i < old.length && old[i + 1] < start) {
            merged[n++] = old[i++];
            merged[n++] = old[i++];
        }
        long s = start;
        long e = end;
        while (i < old.length && old[i] <= e) { // overlapping or touching: one run
            s = Math.min(s, old[i]);
            e = Math.max(e, old[i + 1]);
            i += 2;
        }
        merged[n++] = s;
        merged[n++] = e;
        while (i < old.length) {
            merged[n++] = old[i++];
        }
        runs = Arrays.copyOf(merged, n);
    }

    /** True if one run of {@code runs} holds all of {@code [start, end)}. */
    private static boolean covered(long[] runs, long start, long end) {
        int run = lastStartingBefore(runs, start + 1); // the last starting at or before start
        return run >= 0 && end <= runs[2 * run + 1];
    }

    /** The index of the last run of {@code runs} that starts before {@code pos}, or -1. */
    private static int lastStartingBefore(long[] runs, long pos) {
        int lo = 0;
        int hi = runs.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (runs[2 * mid] < pos) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi;
    }
}
