package dev.faultdisk.wire;

/** How an export's write cache treats writes and flushes (write-cache-set-mode; docs/WRITE-CACHE.md). */
public enum CacheMode implements Labelled {
    /** Every acknowledged write, trim and write-zeroes has reached the device below. */
    WRITETHROUGH("writethrough"),
    /**
     * A write acknowledged without FUA lives in a volatile cache until a flush completes; FUA makes
     * its own request durable before it is acknowledged.
     */
    WRITEBACK("writeback"),
    /**
     * A misbehaving writeback cache, the disk behind a file system mounted {@code nobarrier}:
     * FLUSH is acknowledged and persists nothing, and FUA is ignored.
     */
    LYING_FLUSH("lying-flush");

    private final String label;

    CacheMode(String label) {
        this.label = label;
    }

    /** The name used on the command line and over QMP. */
    @Override
    public String label() {
        return label;
    }

    /** Parses a label such as {@code writeback}; the error lists the known ones. */
    public static CacheMode parse(String text) {
        return Labelled.parse(values(), text, "cache mode");
    }

    @Override
    public String toString() {
        return label;
    }
}
