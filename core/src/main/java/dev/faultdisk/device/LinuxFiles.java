package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The few Linux file calls the JDK lacks, through the foreign function API: punching holes
 * (fallocate) and finding data and holes (lseek SEEK_DATA/SEEK_HOLE), which keep sparse image
 * files sparse. Where the calls are unavailable, {@link #available()} is false and callers fall
 * back to writing zeroes and reporting all data.
 */
final class LinuxFiles {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;

    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle LSEEK;
    private static final MethodHandle FALLOCATE;

    static {
        MethodHandle open = null;
        MethodHandle close = null;
        MethodHandle lseek = null;
        MethodHandle fallocate = null;
        try {
            if (System.getProperty("os.name", "")
                    .toLowerCase(java.util.Locale.ROOT)
                    .contains("linux")) {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                open = linker.downcallHandle(
                        libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(
                                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                        Linker.Option.firstVariadicArg(2));
                close = downcall(linker, libc, "close", JAVA_INT, JAVA_INT);
                lseek = downcall(linker, libc, "lseek", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
                fallocate = downcall(linker, libc, "fallocate", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
            }
        } catch (Throwable e) {
            // Restricted native access or another platform: fall back to plain Java I/O.
            open = close = lseek = fallocate = null;
        }
        OPEN = open;
        CLOSE = close;
        LSEEK = lseek;
        FALLOCATE = fallocate;
    }

    private LinuxFiles() {}

    /** A handle on a libc function with a fixed argument list. */
    private static MethodHandle downcall(
            Linker linker, SymbolLookup libc, String name, MemoryLayout result, MemoryLayout... arguments) {
        return linker.downcallHandle(libc.find(name).orElseThrow(), FunctionDescriptor.of(result, arguments));
    }

    static boolean available() {
        return OPEN != null;
    }

    /** Opens a second, read-only descriptor used for lseek and fallocate; -1 on failure. */
    static int openForControl(Path path) {
        if (!available()) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path.toString());
            return (int) OPEN.invokeExact(cPath, O_RDONLY | O_CLOEXEC, 0);
        } catch (Throwable e) {
            return -1;
        }
    }

    static void close(int fd) {
        if (fd >= 0 && CLOSE != null) {
            try {
                int ignored = (int) CLOSE.invokeExact(fd);
            } catch (Throwable e) {
                // nothing more to do on close
            }
        }
    }

    /**
     * Deallocates a range, which then reads as zeroes. Needs a descriptor open for writing; the
     * caller passes the writable descriptor's twin opened with {@link #openForWrite}.
     */
    static boolean punchHole(int fd, long offset, long length) {
        if (fd < 0 || FALLOCATE == null) {
            return false;
        }
        try {
            return (int) FALLOCATE.invokeExact(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** Opens a read-write descriptor for hole punching; -1 on failure. */
    static int openForWrite(Path path) {
        if (!available()) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path.toString());
            return (int) OPEN.invokeExact(cPath, 2 /* O_RDWR */ | O_CLOEXEC, 0);
        } catch (Throwable e) {
            return -1;
        }
    }

    /** The next offset at or after {@code offset} holding data, or -1 if none (or unknown). */
    static long seekData(int fd, long offset) {
        return seek(fd, offset, SEEK_DATA);
    }

    /** The next offset at or after {@code offset} starting a hole (end of file counts), or -1. */
    static long seekHole(int fd, long offset) {
        return seek(fd, offset, SEEK_HOLE);
    }

    private static long seek(int fd, long offset, int whence) {
        if (fd < 0 || LSEEK == null) {
            return -1;
        }
        try {
            return (long) LSEEK.invokeExact(fd, offset, whence);
        } catch (Throwable e) {
            return -1;
        }
    }
}
