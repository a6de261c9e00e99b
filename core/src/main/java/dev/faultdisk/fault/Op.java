package dev.faultdisk.fault;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** The operations a fault rule can target, named as in QMP ({@code write-zeroes}, {@code block-status}). */
public enum Op {
    READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, BLOCK_STATUS;

    public static final Set<Op> ALL = EnumSet.allOf(Op.class);
    /** Operations that change data. */
    public static final Set<Op> CHANGES = EnumSet.of(WRITE, TRIM, WRITE_ZEROES);

    private final String qapiName = name().toLowerCase(Locale.ROOT).replace('_', '-');

    public String qapiName() {
        return qapiName;
    }

    /** The operation called {@code name} ({@code read}, {@code write-zeroes}, ...). */
    public static Optional<Op> byName(String name) {
        for (Op op : values()) {
            if (op.qapiName.equals(name)) {
                return Optional.of(op);
            }
        }
        return Optional.empty();
    }

    /** The names of {@code ops} joined by ", ", in declaration order. */
    public static String names(Set<Op> ops) {
        StringBuilder b = new StringBuilder();
        for (Op op : values()) {
            if (ops.contains(op)) {
                b.append(b.isEmpty() ? "" : ", ").append(op.qapiName);
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return qapiName;
    }
}
