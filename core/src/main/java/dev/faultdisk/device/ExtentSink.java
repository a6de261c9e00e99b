package dev.faultdisk.device;

/** Receives extents from {@link BlockDevice#extents}; flags use the NBD base:allocation bits. */
@FunctionalInterface
public interface ExtentSink {
    /** Unallocated: reads may still return data of an unknown kind unless ZERO is also set. */
    int HOLE = 1;
    /** Reads as zeroes. */
    int ZERO = 2;

    /** Accepts one extent; returns false to stop the enumeration. */
    boolean accept(long length, int flags);
}
