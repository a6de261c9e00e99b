package dev.faultdisk.wire;

/** What a power failure does to the unflushed content of a write cache (power-fail; docs/WRITE-CACHE.md). */
public enum PowerFailMode implements Labelled {
    /** Every unflushed write, trim and write-zeroes is lost. */
    DROP_ALL("drop-all"),
    /**
     * A seeded random half of the unflushed writes reached the medium before the power went, as a
     * cache destages in its own order; each of the others is lost whole.
     */
    RANDOM_SUBSET("random-subset"),
    /**
     * Each unflushed write keeps a seeded random subset of its 512-byte sectors: writes are torn
     * at sector granularity.
     */
    TORN_WRITES("torn-writes");

    /** Granularity of {@link #TORN_WRITES}. */
    public static final int SECTOR = 512;

    private final String label;

    PowerFailMode(String label) {
        this.label = label;
    }

    /** The name used on the command line and over QMP. */
    @Override
    public String label() {
        return label;
    }

    /** Parses a label such as {@code drop-all}; the error lists the known ones. */
    public static PowerFailMode parse(String text) {
        return Labelled.parse(values(), text, "power-fail mode");
    }

    @Override
    public String toString() {
        return label;
    }
}
