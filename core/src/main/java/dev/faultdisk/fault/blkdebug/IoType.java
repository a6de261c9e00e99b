package dev.faultdisk.fault.blkdebug;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/** QEMU's {@code BlkdebugIOType}: the kind of request a rule check is made for. */
public enum IoType {
    READ("read"),
    WRITE("write"),
    WRITE_ZEROES("write-zeroes"),
    DISCARD("discard"),
    FLUSH("flush"),
    BLOCK_STATUS("block-status");

    /** What an inject-error rule without {@code iotype} fails: everything but block-status (as in QEMU). */
    public static final Set<IoType> DEFAULT =
            Collections.unmodifiableSet(EnumSet.of(READ, WRITE, WRITE_ZEROES, DISCARD, FLUSH));

    private final String qapiName;

    IoType(String qapiName) {
        this.qapiName = qapiName;
    }

    /** The name in QEMU's QAPI schema and configuration files, e.g. {@code write-zeroes}. */
    public String qapiName() {
        return qapiName;
    }

    /** The type with this QAPI name (case-sensitive, as in QEMU). */
    public static Optional<IoType> byName(String name) {
        for (IoType t : values()) {
            if (t.qapiName.equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    static int mask(Set<IoType> types) {
        int mask = 0;
        for (IoType t : types) {
            mask |= 1 << t.ordinal();
        }
        return mask;
    }

    @Override
    public String toString() {
        return qapiName;
    }
}
