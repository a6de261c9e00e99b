package dev.faultdisk.server;

import dev.faultdisk.wire.Errno;
import java.util.Map;

/** glibc's strerror texts, which QEMU puts in BLOCK_IO_ERROR's "reason". */
final class Strerror {
    private static final Map<Integer, String> TEXT = Map.ofEntries(
            Map.entry(Errno.EPERM, "Operation not permitted"),
            Map.entry(Errno.ENOENT, "No such file or directory"),
            Map.entry(Errno.EIO, "Input/output error"),
            Map.entry(Errno.ENXIO, "No such device or address"),
            Map.entry(Errno.E2BIG, "Argument list too long"),
            Map.entry(Errno.EBADF, "Bad file descriptor"),
            Map.entry(Errno.EAGAIN, "Resource temporarily unavailable"),
            Map.entry(Errno.ENOMEM, "Cannot allocate memory"),
            Map.entry(Errno.EACCES, "Permission denied"),
            Map.entry(Errno.EFAULT, "Bad address"),
            Map.entry(Errno.EBUSY, "Device or resource busy"),
            Map.entry(Errno.EEXIST, "File exists"),
            Map.entry(Errno.ENODEV, "No such device"),
            Map.entry(Errno.EINVAL, "Invalid argument"),
            Map.entry(Errno.EFBIG, "File too large"),
            Map.entry(Errno.ENOSPC, "No space left on device"),
            Map.entry(Errno.ESPIPE, "Illegal seek"),
            Map.entry(Errno.EROFS, "Read-only file system"),
            Map.entry(Errno.EPIPE, "Broken pipe"),
            Map.entry(Errno.ERANGE, "Numerical result out of range"),
            Map.entry(Errno.ENOSYS, "Function not implemented"),
            Map.entry(Errno.ENODATA, "No data available"),
            Map.entry(Errno.ETIME, "Timer expired"),
            Map.entry(Errno.EOVERFLOW, "Value too large for defined data type"),
            Map.entry(Errno.EILSEQ, "Invalid or incomplete multibyte or wide character"),
            Map.entry(Errno.ENOTSUP, "Operation not supported"),
            Map.entry(Errno.ECONNRESET, "Connection reset by peer"),
            Map.entry(Errno.ESHUTDOWN, "Cannot send after transport endpoint shutdown"),
            Map.entry(Errno.ETIMEDOUT, "Connection timed out"),
            Map.entry(Errno.EDQUOT, "Disk quota exceeded"),
            Map.entry(Errno.ECANCELED, "Operation canceled"),
            Map.entry(Errno.EMEDIUMTYPE, "Wrong medium type"));

    private Strerror() {}

    static String of(int errno) {
        return TEXT.getOrDefault(errno, "Unknown error " + errno);
    }
}
