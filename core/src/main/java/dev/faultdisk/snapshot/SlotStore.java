package dev.faultdisk.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a delta keeps its blocks: numbered 4 KiB slots, appended as blocks arrive. In memory (for
 * exports over memory) or in an unlinked temporary file (for exports over files, so deltas cost
 * page cache, not heap). Slots are written by one writer at a time (the delta's lock); reads may
 * run concurrently with each other.
 */
abstract sealed class SlotStore implements AutoCloseable {
    static final int BLOCK = 4096;

    private int next;

    /** A new slot's number. */
    final int allocate() {
        return next++;
    }

    /** Slots handed out. */
    final int slots() {
        return next;
    }

    /** Writes one whole block ({@code src} has exactly {@link #BLOCK} bytes remaining). */
    abstract void write(int slot, ByteBuffer src) throws IOException;

    /** Reads {@code dst.remaining()} bytes of a slot from {@code within}. */
    abstract void read(int slot, int within, ByteBuffer dst) throws IOException;

    @Override
    public abstract void close() throws IOException;

    static SlotStore inMemory() {
        return new Memory();
    }

    /** A store in an unlinked temporary file in {@code dir}: nothing is left behind. */
    static SlotStore inFile(Path dir) throws IOException {
        Path path = Files.createTempFile(dir, "faultdisk-delta-", ".blocks");
        try {
            return new InFile(FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE));
        } finally {
            Files.deleteIfExists(path);
        }
    }

    /** Pages of 256 slots (1 MiB), allocated as slots are. */
    static final class Memory extends SlotStore {
        private static final int PAGE_SHIFT = 8;
        private static final int PAGE_SLOTS = 1 << PAGE_SHIFT;
        private final List<byte[]> pages = new ArrayList<>();

        @Override
        void write(int slot, ByteBuffer src) {
            int page = slot >>> PAGE_SHIFT;
            while (pages.size() <= page) {
                pages.add(new byte[PAGE_SLOTS * BLOCK]);
            }
            src.get(pages.get(page), (slot & (PAGE_SLOTS - 1)) * BLOCK, BLOCK);
        }

        @Override
        void read(int slot, int within, ByteBuffer dst) {
            byte[] page = pages.get(slot >>> PAGE_SHIFT);
            dst.put(page, (slot & (PAGE_SLOTS - 1)) * BLOCK + within, dst.remaining());
        }

        @Override
        public void close() {
            pages.clear();
        }
    }

    static final class InFile extends SlotStore {
        private final FileChannel channel;

        InFile(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        void write(int slot, ByteBuffer src) throws IOException {
            long pos = (long) slot * BLOCK;
            while (src.hasRemaining()) {
                pos += channel.write(src, pos);
            }
        }

        @Override
        void read(int slot, int within, ByteBuffer dst) throws IOException {
            long pos = (long) slot * BLOCK + within;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) {
                    throw new IOException("delta file ends before slot " + slot);
                }
                pos += n;
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
