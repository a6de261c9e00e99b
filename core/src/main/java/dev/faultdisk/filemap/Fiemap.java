package dev.faultdisk.filemap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The extents of a file from the kernel's FIEMAP ioctl, through the foreign function API
 * ({@code include/uapi/linux/fiemap.h}). Asks with {@code FIEMAP_FLAG_SYNC}, so delayed
 * allocations get their blocks first, and leaves out extents whose bytes have no place of their
 * own on the device (unknown, delayed, encoded, inline in metadata).
 */
public final class Fiemap {
    /** {@code _IOWR('f', 11, struct fiemap)}. */
    private static final long FS_IOC_FIEMAP = 0xC020660BL;

    private static final int FLAG_SYNC = 0x1;
    private static final int LAST = 0x1;
    private static final int UNKNOWN = 0x2;
    private static final int ENCODED = 0x8;
    private static final int NOT_ALIGNED = 0x100;
    private static final int DATA_INLINE = 0x200;

    /** Extent flag: allocated, reads as zeros; the device holds anything. */
    public static final int UNWRITTEN = 0x800;

    private static final int O_NOFOLLOW = 0x20000;
    private static final int BATCH = 256;
    private static final long HEADER = 32;
    private static final long EXTENT = 56;

    private static final MethodHandle IOCTL = Libc.function(
            "ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2),
            Libc.ERRNO);
    private static final String UNAVAILABLE = IOCTL == null
            ? "the foreign function API cannot reach libc's ioctl here (another system, or native access denied)"
            : null;

    private Fiemap() {}

    /**
     * The extents of {@code file}, in file order, each with a physical place on the device.
     *
     * @throws IOException if the file cannot be opened or the file system has no FIEMAP
     */
    public static List<Extent> extents(Path file) throws IOException {
        if (UNAVAILABLE != null) {
            throw new IOException(UNAVAILABLE);
        }
        List<Extent> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            int fd = Libc.open(file, Libc.O_RDONLY | Libc.O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) {
                throw new IOException("cannot open " + file + ": errno " + -fd);
            }
            try {
                MemorySegment buf = arena.allocate(HEADER + EXTENT * BATCH, 8);
                long start = 0;
                while (true) {
                    buf.fill((byte) 0);
                    buf.set(JAVA_LONG, 0, start); // fm_start
                    buf.set(JAVA_LONG, 8, Long.MAX_VALUE - start); // fm_length (~0ULL in effect)
                    buf.set(JAVA_INT, 16, FLAG_SYNC); // fm_flags
                    buf.set(JAVA_INT, 24, BATCH); // fm_extent_count
                    int rc = (int) IOCTL.invokeExact(state, fd, FS_IOC_FIEMAP, buf);
                    if (rc < 0) {
                        int err = Libc.errno(state);
                        throw new IOException("FIEMAP on " + file + " failed: errno " + err
                                + (err == 95 ? " (the file system does not support FIEMAP)" : ""));
                    }
                    int mapped = buf.get(JAVA_INT, 20);
                    if (mapped == 0) {
                        return out;
                    }
                    boolean last = false;
                    for (int i = 0; i < mapped; i++) {
                        long base = HEADER + EXTENT * i;
                        long logical = buf.get(JAVA_LONG, base);
                        long physical = buf.get(JAVA_LONG, base + 8);
                        long length = buf.get(JAVA_LONG, base + 16);
                        int flags = buf.get(JAVA_INT, base + 40);
                        if ((flags & (UNKNOWN | ENCODED | DATA_INLINE | NOT_ALIGNED)) == 0 && length > 0) {
                            out.add(new Extent(logical, physical, length, flags));
                        }
                        last = (flags & LAST) != 0;
                        start = logical + length;
                    }
                    if (last) {
                        return out;
                    }
                }
            } finally {
                Libc.close(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("FIEMAP on " + file + ": " + e, e);
        }
    }
}
