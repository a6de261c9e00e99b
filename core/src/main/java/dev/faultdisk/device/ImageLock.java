package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A lock on an image for as long as a device serves it, so that another faultdisk process cannot
 * write an image this one serves, nor serve one this one writes (within one process the export
 * registry refuses that first): an open-file-description lock ({@code F_OFD_SETLK}) on the byte at
 * 2^62, far past any data, exclusive for a writable image and shared for a read-only one, let go
 * when the device closes or the process ends. Not QEMU's lock bytes (100-299): qemu-img and
 * qemu-nbd neither refuse an image faultdisk serves nor are refused by it, as before. Where no
 * lock can be taken (not Linux, a file system without locks) the image is served without one.
 */
final class ImageLock implements AutoCloseable {
    /** The locked byte: past any image, so no data range is ever locked. */
    static final long BYTE = 1L << 62;

    private static final int F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0;
    private static final short F_WRLCK = 1;
    private static final int EACCES = 13;
    /** How long a refused lock is tried again: a server that is exiting lets go within it. */
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final MethodHandle FCNTL = Libc.function(
            "fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
            Libc.ERRNO,
            Linker.Option.firstVariadicArg(2));

    /** No lock: for an image served with {@code ,locking=off}. */
    static final ImageLock NONE = new ImageLock(-1);

    private final int fd;

    private ImageLock(int fd) {
        this.fd = fd;
    }

    /**
     * Locks {@code path}, shared if {@code readOnly}, else exclusively; fails if another process's
     * lock stands in the way for a second. With no lock to be had here, a lock that holds nothing.
     */
    static ImageLock take(Path path, boolean readOnly) throws IOException {
        int fd = FCNTL == null ? -1 : Libc.open(path, (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC);
        if (fd < 0) {
            return NONE; // opening the image itself says why it cannot be opened
        }
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (true) {
            int errno = lock(fd, readOnly ? F_RDLCK : F_WRLCK);
            if (errno == 0) {
                return new ImageLock(fd);
            }
            boolean conflict = errno == Libc.EAGAIN || errno == EACCES;
            if (!conflict || System.nanoTime() - deadline >= 0) {
                Libc.close(fd);
                if (!conflict) {
                    return NONE; // this file system has no such locks
                }
                throw new IOException(
                        "image " + path + " is "
                                + (readOnly
                                        ? "written by another faultdisk process"
                                        : "served by another faultdisk process")
                                + ": one image is served writable by one export only (add ,readonly to every export of it to share it)");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Libc.close(fd);
                throw new InterruptedIOException("interrupted while waiting for the lock on image " + path);
            }
        }
    }

    /** {@code fcntl(fd, F_OFD_SETLK, {type, SEEK_SET, BYTE, 1})}: 0, or the errno. */
    private static int lock(int fd, short type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flock = arena.allocate(32, 8); // struct flock on 64-bit Linux
            flock.set(JAVA_SHORT, 0, type);
            flock.set(JAVA_SHORT, 2, (short) 0); // SEEK_SET
            flock.set(JAVA_LONG, 8, BYTE);
            flock.set(JAVA_LONG, 16, 1L);
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            int r = (int) FCNTL.invokeExact(state, fd, F_OFD_SETLK, flock);
            return r == 0 ? 0 : Libc.errno(state);
        } catch (Throwable e) {
            return Libc.ENOSYS;
        }
    }

    /** True if a lock is held (false where none could be had). */
    boolean held() {
        return fd >= 0;
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
