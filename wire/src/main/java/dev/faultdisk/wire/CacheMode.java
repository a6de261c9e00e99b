package dev.faultdisk.wire;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How an export's write cache treats writes and flushes (write-cache-set-mode; docs/WRITE-CACHE.md). */
public enum CacheMode {
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
    public String label() {
        return label;
    }

    /** Parses a label such as {@code writeback}; the error lists the known ones. */
    public static CacheMode parse(String text) {
        String wanted = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (CacheMode m : values()) {
            if (m.label.equals(wanted)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown cache mode '" + text + "' (known: " + labels() + ")");
    }

    /** Every label, in declaration order, joined by ", ". */
    public static String labels() {
        return Arrays.stream(values()).map(CacheMode::label).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return label;
    }
}
