package dev.faultdisk.client;

/** An export's write cache mode (write-cache-set-mode; docs/WRITE-CACHE.md). */
public enum CacheMode {
    /** Every acknowledged write is durable. */
    WRITETHROUGH("writethrough"),
    /** Writes without FUA stay in a volatile cache until a FLUSH completes. */
    WRITEBACK("writeback"),
    /** FLUSH and FUA are acknowledged and persist nothing: the disk behind a nobarrier mount. */
    LYING_FLUSH("lying-flush");

    private final String label;

    CacheMode(String label) {
        this.label = label;
    }

    /** The name on the wire. */
    public String label() {
        return label;
    }

    /** The mode named {@code label} on the wire. */
    public static CacheMode of(String label) {
        for (CacheMode m : values()) {
            if (m.label.equals(label)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown cache mode '" + label + "' (writethrough, writeback, lying-flush)");
    }
}
