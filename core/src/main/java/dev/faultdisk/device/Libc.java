package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The C library's functions that the project calls where the JDK has no API (hole punching,
 * FIEMAP, timer slack, splice, io_uring), looked up through the foreign function API. A function
 * this process cannot call (another system, native access denied) comes back null, and each
 * caller then goes without, as it says.
 */
public final class Libc {
    /** Asks a function to capture errno into a segment of {@link #CALL_STATE}'s layout. */
    public static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    /** The layout of the state {@link #ERRNO} captures. */
    public static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();

    /** Interrupted system call: try again. */
    public static final int EINTR = 4;
    /** Resource temporarily unavailable: nothing to do without waiting. */
    public static final int EAGAIN = 11;
    /** Function not implemented: what {@link #open} answers where it cannot call open. */
    public static final int ENOSYS = 38;
    // mmap's protections and flags.
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    // madvise's advice.
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_POPULATE_WRITE = 23;
    // Open flags (open, pipe2, fcntl F_GETFL).
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    private static final VarHandle ERRNO_VALUE = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final boolean LINUX =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

    private static final MethodHandle OPEN = function(
            "open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            ERRNO,
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = function("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL = function(
            "fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            ERRNO,
            Linker.Option.firstVariadicArg(2));

    private static final MethodHandle MMAP = function(
            "mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle MUNMAP = function("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    private static final MethodHandle MADVISE =
            function("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private Libc() {}

    /** Whether {@link #madvise} can be called here. */
    public static boolean canAdvise() {
        return MADVISE != null;
    }

    /** {@code madvise(address, length, advice)}: whether it took the advice (false where it cannot be called). */
    public static boolean madvise(long address, long length, int advice) {
        if (MADVISE == null) {
            return false;
        }
        try {
            return (int) MADVISE.invokeExact(MemorySegment.ofAddress(address), length, advice) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** Whether {@link #mmap} and {@link #munmap} can be called here. */
    public static boolean canMap() {
        return MMAP != null && MUNMAP != null;
    }

    /**
     * {@code mmap(NULL, length, prot, flags, fd, offset)}: the mapping's address, or minus errno
     * (-{@link #ENOSYS} where mmap cannot be called).
     */
    public static long mmap(long length, int prot, int flags, int fd, long offset) {
        if (MMAP == null) {
            return -ENOSYS;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long address = ((MemorySegment)
                            MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, fd, offset))
                    .address();
            return address != -1L ? address : -errno(state);
        } catch (Throwable e) {
            return -ENOSYS;
        }
    }

    /** Unmaps what {@link #mmap} mapped; a failure leaves nothing more to do (the range stays mapped). */
    public static void munmap(long address, long length) {
        if (MUNMAP == null) {
            return;
        }
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), length);
        } catch (Throwable e) {
            // nothing more to do
        }
    }

    /** Opens {@code path} with {@code flags}: the descriptor, or minus errno (-{@link #ENOSYS} where open cannot be called). */
    public static int open(Path path, int flags) {
        if (OPEN == null) {
            return -ENOSYS;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toString()), flags, 0);
            return fd >= 0 ? fd : -errno(state);
        } catch (Throwable e) {
            return -ENOSYS;
        }
    }

    /** Closes {@code fd} if it is one (not negative); a failure leaves nothing more to do. */
    public static void close(int fd) {
        if (fd < 0 || CLOSE == null) {
            return;
        }
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable e) {
            // nothing more to do on close
        }
    }

    /**
     * {@code fcntl(fd, cmd, arg)} with an int argument: its result, or minus errno (-{@link
     * #ENOSYS} where fcntl cannot be called).
     */
    public static int fcntl(int fd, int cmd, int arg) {
        if (FCNTL == null) {
            return -ENOSYS;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) FCNTL.invokeExact(state, fd, cmd, arg);
            return r >= 0 ? r : -errno(state);
        } catch (Throwable e) {
            return -ENOSYS;
        }
    }

    /** The libc function {@code name} with {@code descriptor}, or null if this process cannot call it. */
    public static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        if (!LINUX) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), descriptor, options);
        } catch (RuntimeException | Error e) {
            return null; // not found, or native access denied to this module
        }
    }

    /** The errno a call with {@link #ERRNO} captured into {@code state}. */
    public static int errno(MemorySegment state) {
        return (int) ERRNO_VALUE.get(state, 0L);
    }
}
