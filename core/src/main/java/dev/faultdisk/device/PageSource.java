package dev.faultdisk.device;

import java.nio.ByteBuffer;

/** Memory holding a read's bytes in pages, which a frontend may send as they lie ({@link ReadSource}). */
public non-sealed interface PageSource extends ReadSource {
    /** Bytes a page holds: a read of n bytes takes at most n / PAGE + 2 views. */
    int PAGE = 4096;

    /**
     * Puts into {@code views}, from index {@code from}, buffers over the bytes from {@code offset}
     * on, in order, each within one page: as many as the array takes, covering at most
     * {@code length} bytes. Returns how many it put, negated if every one is zeroes never written or zeroed (the
     * frontend may answer with a hole instead). The views share the device's memory and are only
     * read: a write meanwhile may show through, as it may into a read under way.
     */
    int views(long offset, long length, ByteBuffer[] views, int from);
}
