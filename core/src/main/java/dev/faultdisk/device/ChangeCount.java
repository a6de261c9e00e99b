package dev.faultdisk.device;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A device's changes of content, counted for {@link BlockDevice#readVersion}: each change adds one
 * as it starts and one as it ends, so the count moves whenever a change lands between two looks.
 * A change still running at both looks overlaps whatever read was done between them, which may
 * then see it partly, as any read running beside a write may.
 */
public final class ChangeCount {
    private final AtomicLong count = new AtomicLong();

    /** A change starts; call {@link #end} when it ends, failed or not. */
    public void begin() {
        count.incrementAndGet();
    }

    public void end() {
        count.incrementAndGet();
    }

    /** Moves the count once: a change made at one stroke (a revert, a power cut). */
    public void bump() {
        count.incrementAndGet();
    }

    public long get() {
        return count.get();
    }
}
