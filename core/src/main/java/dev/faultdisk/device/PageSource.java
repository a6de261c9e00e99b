package dev.faultdisk.device;

import java.nio.ByteBuffer;

/** Memory holding a read's bytes in pages, which a frontend may send as they lie ({@link ReadSource}). */
public non-sealed interface PageSource extends ReadSource {
    /** Bytes a page holds: a read of n bytes takes at most n / PAGE + 2 views. */
    int PAGE = 4096;

    /**
     * Puts into {@code views}, from index {@code from}, buffers over the bytes from {@code offset}
     * on, in order (pages lying side by side share one): as many as the array takes, covering at
     * most {@code length} bytes. Returns how many it put, negated if every one is zeroes never
     * written or zeroed (the frontend may answer with a hole instead). The pages stay the device's
     * and are only read: a write meanwhile may show through, as it may into a read under way. Each
     * page is pinned into {@code pins} until {@link #release}: a page trimmed meanwhile is not given
     * to another block while its bytes are being sent.
     */
    int views(long offset, long length, ByteBuffer[] views, int from, PagePins pins);

    /** Lets go the pages {@code pins} holds (the views over them must not be read after). */
    void release(PagePins pins);
}
