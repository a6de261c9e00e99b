package dev.faultdisk.client;

/** What a power failure does to unflushed writes (power-fail; docs/WRITE-CACHE.md). */
public enum PowerFailMode {
    /** Every unflushed write is lost. */
    DROP_ALL("drop-all"),
    /** A seeded random subset of whole writes survives. */
    RANDOM_SUBSET("random-subset"),
    /** A seeded subset of each write's 512-byte sectors survives. */
    TORN_WRITES("torn-writes");

    private final String label;

    PowerFailMode(String label) {
        this.label = label;
    }

    /** The name on the wire. */
    public String label() {
        return label;
    }

    /** The mode named {@code label} on the wire. */
    public static PowerFailMode of(String label) {
        for (PowerFailMode m : values()) {
            if (m.label.equals(label)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown power-fail mode '" + label + "' (drop-all, random-subset, torn-writes)");
    }
}
