package dev.faultdisk.fault.blkdebug;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The events of QEMU's {@code BlkdebugEvent} enum, in QEMU's order. Rules trigger on them.
 *
 * <p>QEMU's format drivers fire most of these deep inside qcow2 and friends; a raw export fires
 * only {@code read_aio}, {@code write_aio}, {@code pwritev}, {@code pwritev_zero},
 * {@code pwritev_done}, {@code flush_to_os}, {@code flush_to_disk} and, once when the rules are
 * loaded, {@code none} (see {@link EventTable}). The others are accepted so that existing
 * configuration files load; rules on them never trigger.
 */
public enum BlkdebugEvent {
    L1_UPDATE("l1_update"),
    L1_GROW_ALLOC_TABLE("l1_grow_alloc_table", "l1_grow.alloc_table"),
    L1_GROW_WRITE_TABLE("l1_grow_write_table", "l1_grow.write_table"),
    L1_GROW_ACTIVATE_TABLE("l1_grow_activate_table", "l1_grow.activate_table"),
    L2_LOAD("l2_load"),
    L2_UPDATE("l2_update"),
    L2_UPDATE_COMPRESSED("l2_update_compressed"),
    L2_ALLOC_COW_READ("l2_alloc_cow_read", "l2_alloc.cow_read"),
    L2_ALLOC_WRITE("l2_alloc_write", "l2_alloc.write"),
    READ_AIO("read_aio"),
    READ_BACKING_AIO("read_backing_aio"),
    READ_COMPRESSED("read_compressed"),
    WRITE_AIO("write_aio"),
    WRITE_COMPRESSED("write_compressed"),
    VMSTATE_LOAD("vmstate_load"),
    VMSTATE_SAVE("vmstate_save"),
    COW_READ("cow_read"),
    COW_WRITE("cow_write"),
    REFTABLE_LOAD("reftable_load"),
    REFTABLE_GROW("reftable_grow"),
    REFTABLE_UPDATE("reftable_update"),
    REFBLOCK_LOAD("refblock_load"),
    REFBLOCK_UPDATE("refblock_update"),
    REFBLOCK_UPDATE_PART("refblock_update_part"),
    REFBLOCK_ALLOC("refblock_alloc"),
    REFBLOCK_ALLOC_HOOKUP("refblock_alloc_hookup", "refblock_alloc.hookup"),
    REFBLOCK_ALLOC_WRITE("refblock_alloc_write", "refblock_alloc.write"),
    REFBLOCK_ALLOC_WRITE_BLOCKS("refblock_alloc_write_blocks", "refblock_alloc.write_blocks"),
    REFBLOCK_ALLOC_WRITE_TABLE("refblock_alloc_write_table", "refblock_alloc.write_table"),
    REFBLOCK_ALLOC_SWITCH_TABLE("refblock_alloc_switch_table", "refblock_alloc.switch_table"),
    CLUSTER_ALLOC("cluster_alloc"),
    CLUSTER_ALLOC_BYTES("cluster_alloc_bytes"),
    CLUSTER_FREE("cluster_free"),
    FLUSH_TO_OS("flush_to_os"),
    FLUSH_TO_DISK("flush_to_disk"),
    PWRITEV_RMW_HEAD("pwritev_rmw_head", "pwritev_rmw.head"),
    PWRITEV_RMW_AFTER_HEAD("pwritev_rmw_after_head", "pwritev_rmw.after_head"),
    PWRITEV_RMW_TAIL("pwritev_rmw_tail", "pwritev_rmw.tail"),
    PWRITEV_RMW_AFTER_TAIL("pwritev_rmw_after_tail", "pwritev_rmw.after_tail"),
    PWRITEV("pwritev"),
    PWRITEV_ZERO("pwritev_zero"),
    PWRITEV_DONE("pwritev_done"),
    EMPTY_IMAGE_PREPARE("empty_image_prepare"),
    L1_SHRINK_WRITE_TABLE("l1_shrink_write_table"),
    L1_SHRINK_FREE_L2_CLUSTERS("l1_shrink_free_l2_clusters"),
    COR_WRITE("cor_write"),
    CLUSTER_ALLOC_SPACE("cluster_alloc_space"),
    /** Fired once when an engine is created with its initial rules (QEMU: at the end of open). */
    NONE("none");

    private static final Map<String, BlkdebugEvent> BY_NAME = new HashMap<>();

    static {
        for (BlkdebugEvent e : values()) {
            BY_NAME.put(e.qapiName, e);
            if (e.legacyName != null) {
                BY_NAME.put(e.legacyName, e);
            }
        }
    }

    private final String qapiName;
    private final String legacyName;

    BlkdebugEvent(String qapiName) {
        this(qapiName, null);
    }

    BlkdebugEvent(String qapiName, String legacyName) {
        this.qapiName = qapiName;
        this.legacyName = legacyName;
    }

    /** The name in QEMU's QAPI schema (and in configuration files since QEMU 2.9), e.g. {@code write_aio}. */
    public String qapiName() {
        return qapiName;
    }

    /** The dotted spelling QEMU used before 2.9 (e.g. {@code l1_grow.alloc_table}), if this event had one. */
    public Optional<String> legacyName() {
        return Optional.ofNullable(legacyName);
    }

    /**
     * The event with this name: the QAPI name or the pre-2.9 dotted spelling. Case-sensitive, as in
     * QEMU. (QEMU 7.2 itself no longer accepts the dotted spellings; faultdisk does, so that old
     * configuration files keep working.)
     */
    public static Optional<BlkdebugEvent> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** Like {@link #byName} but fails with a message listing a few valid names. */
    public static BlkdebugEvent parse(String name) {
        BlkdebugEvent e = BY_NAME.get(name);
        if (e == null) {
            String hint = BY_NAME.get(name.toLowerCase(Locale.ROOT)) != null ? " (event names are lower case)" : "";
            throw new IllegalArgumentException(
                    "unknown blkdebug event '" + name + "'" + hint
                            + "; e.g. read_aio, write_aio, flush_to_os, flush_to_disk, pwritev, pwritev_zero, pwritev_done, none");
        }
        return e;
    }

    @Override
    public String toString() {
        return qapiName;
    }
}
