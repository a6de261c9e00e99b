package dev.faultdisk.wire;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The operations of a block device, the one list the whole project uses: the device stack,
 * statistics, fault rules and the client. Named on the wire as in QMP ({@code write-zeroes},
 * {@code block-status}).
 */
public enum BlockOp {
    READ,
    WRITE,
    FLUSH,
    TRIM,
    WRITE_ZEROES,
    BLOCK_STATUS;

    public static final Set<BlockOp> ALL = EnumSet.allOf(BlockOp.class);
    /** Operations that change data. */
    public static final Set<BlockOp> CHANGES = EnumSet.of(WRITE, TRIM, WRITE_ZEROES);

    private final String wireName = name().toLowerCase(Locale.ROOT).replace('_', '-');

    /** The name on the wire: {@code read}, {@code write-zeroes}, ... */
    public String wireName() {
        return wireName;
    }

    /** The operation called {@code name} on the wire. */
    public static Optional<BlockOp> byName(String name) {
        for (BlockOp op : values()) {
            if (op.wireName.equals(name)) {
                return Optional.of(op);
            }
        }
        return Optional.empty();
    }

    /** The wire names of {@code ops} joined by ", ", in declaration order. */
    public static String names(Set<BlockOp> ops) {
        StringBuilder b = new StringBuilder();
        for (BlockOp op : values()) {
            if (ops.contains(op)) {
                b.append(b.isEmpty() ? "" : ", ").append(op.wireName);
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
