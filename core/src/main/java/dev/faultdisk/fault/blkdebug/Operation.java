package dev.faultdisk.fault.blkdebug;

/**
 * A block operation as a frontend asks for it. Each has the sequence of blkdebug events and rule
 * checks QEMU goes through when qemu-io performs it on {@code -f raw blkdebug:CONF:IMG}
 * (see {@link EventTable}).
 */
public enum Operation {
    READ("read"),
    WRITE("write"),
    /** A write with FUA (and every write of a writethrough client): the write, then a flush. */
    WRITE_FUA("write"),
    WRITE_ZEROES("write-zeroes"),
    WRITE_ZEROES_FUA("write-zeroes"),
    /** Discard (NBD trim). */
    TRIM("discard"),
    /** Trim with FUA: the discard, then a flush (as qemu-nbd serves it). */
    TRIM_FUA("discard"),
    FLUSH("flush"),
    BLOCK_STATUS("block-status");

    private final String qapiName;

    Operation(String qapiName) {
        this.qapiName = qapiName;
    }

    /** QEMU's name for the request type (the iotype of its main check). */
    public String qapiName() {
        return qapiName;
    }

    /** True for operations that only read; QEMU reports their errors as "read", all others as "write". */
    public boolean isRead() {
        return this == READ || this == BLOCK_STATUS;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
