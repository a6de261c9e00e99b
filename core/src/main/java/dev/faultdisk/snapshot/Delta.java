package dev.faultdisk.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * The 4 KiB blocks written over a state of a disk: a layer of a copy-on-write chain. While live
 * it takes writes; once a snapshot freezes it, it never changes and may be shared by snapshots
 * and clones, which hold references to it; the last one to let go closes its storage.
 */
final class Delta {
    /** Makes a delta's storage when its first block arrives, so an empty delta costs no file. */
    @FunctionalInterface
    interface Storage {
        SlotStore create() throws IOException;
    }

    private final BlockIndex index = new BlockIndex();
    private final Storage storage;
    private final AtomicInteger references = new AtomicInteger(1);
    private SlotStore store;

    Delta(Storage storage) {
        this.storage = storage;
    }

    /** The slot of {@code block}, {@link BlockIndex#ZERO}, or {@link BlockIndex#MISSING}. */
    int lookup(long block) {
        return index.get(block);
    }

    boolean isEmpty() {
        return index.size() == 0;
    }

    /** Blocks held (data or zero). */
    int blocks() {
        return index.size();
    }

    void read(int slot, int within, ByteBuffer dst) throws IOException {
        store.read(slot, within, dst);
    }

    /** Stores a whole block. */
    void put(long block, ByteBuffer src) throws IOException {
        int slot = index.get(block);
        if (slot < 0) {
            if (store == null) {
                store = storage.create();
            }
            slot = store.allocate();
        }
        store.write(slot, src);
        index.put(block, slot);
    }

    /** Records that a block reads as zeroes. */
    void putZero(long block) {
        index.put(block, BlockIndex.ZERO);
    }

    void forEachBlock(LongConsumer block) {
        index.forEach(block);
    }

    Delta retain() {
        references.incrementAndGet();
        return this;
    }

    void release() throws IOException {
        if (references.decrementAndGet() == 0 && store != null) {
            store.close();
        }
    }
}
