package dev.faultdisk.nbd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Read-only mappings of image files, one per file for as long as its channel lives: a large read
 * is written to the socket straight from the mapping, so the kernel copies the page-cache pages
 * into the socket once, where reading into a buffer first copies them twice (and sendfile leaves
 * the client to copy cold pages: docs/BENCHMARKS.md). The memory is the page cache's, shared;
 * touched pages count as the process's resident file pages. A mapping is released by the
 * collector once its channel is gone (a closed export's). Each connection keeps the mapping of the
 * file it read last ({@link Cache}), so that its reads do not take the lock of the shared table.
 */
final class FileMappings {
    /** Files larger than this are not mapped (address space, page tables): their reads are copied. */
    private static final long MAX_MAPPED = 1L << 40;

    private static final Map<FileChannel, MemorySegment> MAPPED = new WeakHashMap<>();

    private FileMappings() {}

    /** The {@code count} bytes at {@code position} of a mapping as a read-only direct buffer, or null. */
    private static ByteBuffer view(MemorySegment mapped, long position, long count) {
        if (mapped == null || position < 0 || count > mapped.byteSize() - position) {
            return null;
        }
        return mapped.asSlice(position, count).asByteBuffer().asReadOnlyBuffer();
    }

    /**
     * One connection's view of the table: the last file it read and that file's mapping (or that it
     * has none). A connection serves one export, so after its first large read every other one is
     * answered here; safe for the connection's request threads too.
     */
    static final class Cache {
        private record Last(FileChannel file, MemorySegment mapped) {}

        private volatile Last last;

        /**
         * The {@code count} bytes of {@code file} at {@code position} as a read-only direct buffer,
         * or null if the file cannot be mapped (then the caller copies). The range must lie in the file.
         */
        ByteBuffer view(FileChannel file, long position, long count) {
            Last l = last;
            if (l == null || !file.equals(l.file)) { // a channel equals only itself
                l = new Last(file, mapping(file));
                last = l;
            }
            return FileMappings.view(l.mapped, position, count);
        }
    }

    private static MemorySegment mapping(FileChannel file) {
        synchronized (MAPPED) {
            MemorySegment mapped = MAPPED.get(file);
            if (mapped == null) {
                try {
                    long size = file.size();
                    if (size == 0 || size > MAX_MAPPED) {
                        return null;
                    }
                    mapped = file.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
                } catch (IOException | UnsupportedOperationException e) {
                    return null;
                }
                MAPPED.put(file, mapped);
            }
            return mapped;
        }
    }
}
