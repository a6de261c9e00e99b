package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The few Linux file calls the JDK lacks, through the foreign function API: punching holes and
 * zeroing ranges in place (fallocate) and finding data and holes (lseek SEEK_DATA/SEEK_HOLE), which
 * keep sparse image files sparse and zero them without writing zeroes. Where the calls are
 * unavailable, {@link #available()} is false and callers fall back to writing zeroes and reporting
 * all data.
 */
final class LinuxFiles {
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    private static final int FALLOC_FL_ZERO_RANGE = 0x10;

    private static final MethodHandle LSEEK =
            Libc.function("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FALLOCATE =
            Libc.function("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));

    private LinuxFiles() {}

    static boolean available() {
        return LSEEK != null && FALLOCATE != null;
    }

    /** Opens a second, read-only descriptor used for lseek and fallocate; negative on failure. */
    static int openForControl(Path path) {
        return available() ? Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC) : -1;
    }

    /**
     * Deallocates a range, which then reads as zeroes. Needs a descriptor open for writing; the
     * caller passes the writable descriptor's twin opened with {@link #openForWrite}.
     */
    static boolean punchHole(int fd, long offset, long length) {
        return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /**
     * Makes a range read as zeroes and stay allocated without writing it (ext4 and XFS mark the
     * extents unwritten); false where the file system cannot (tmpfs). Needs a descriptor open for
     * writing, as {@link #punchHole} does.
     */
    static boolean zeroRange(int fd, long offset, long length) {
        return fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /**
     * A punched hole allocated again, as QEMU's file driver zeroes where {@link #zeroRange} cannot:
     * true if the range now reads as zeroes (if the allocation fails, a full file system, it stays
     * a hole).
     */
    static boolean punchAndAllocate(int fd, long offset, long length) {
        if (!punchHole(fd, offset, length)) {
            return false;
        }
        fallocate(fd, 0, offset, length);
        return true;
    }

    private static boolean fallocate(int fd, int mode, long offset, long length) {
        if (fd < 0 || FALLOCATE == null) {
            return false;
        }
        try {
            return (int) FALLOCATE.invokeExact(fd, mode, offset, length) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** Opens a read-write descriptor for hole punching; negative on failure. */
    static int openForWrite(Path path) {
        return available() ? Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC) : -1;
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
