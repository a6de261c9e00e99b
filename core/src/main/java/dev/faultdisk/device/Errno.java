package dev.faultdisk.device;

import java.util.Map;
import java.util.Optional;

/** Linux errno values used by devices and faults. The NBD frontend maps them to NBD errors. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EROFS = 30;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int ENODATA = 61;
    public static final int ETIME = 62;
    public static final int EOVERFLOW = 75;
    public static final int EILSEQ = 84;
    public static final int ENOTSUP = 95;
    public static final int ECONNRESET = 104;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int EDQUOT = 122;
    public static final int ECANCELED = 125;
    public static final int EMEDIUMTYPE = 124;

    private static final Map<String, Integer> BY_NAME = Map.ofEntries(
            Map.entry("EPERM", EPERM), Map.entry("ENOENT", ENOENT), Map.entry("EIO", EIO),
            Map.entry("ENXIO", ENXIO), Map.entry("E2BIG", E2BIG), Map.entry("EBADF", EBADF),
            Map.entry("EAGAIN", EAGAIN), Map.entry("ENOMEM", ENOMEM), Map.entry("EACCES", EACCES),
            Map.entry("EFAULT", EFAULT), Map.entry("EBUSY", EBUSY), Map.entry("EEXIST", EEXIST),
            Map.entry("ENODEV", ENODEV), Map.entry("EINVAL", EINVAL), Map.entry("EFBIG", EFBIG),
            Map.entry("ENOSPC", ENOSPC), Map.entry("ESPIPE", ESPIPE), Map.entry("EROFS", EROFS),
            Map.entry("EPIPE", EPIPE), Map.entry("ERANGE", ERANGE), Map.entry("ENOSYS", ENOSYS),
            Map.entry("ENODATA", ENODATA), Map.entry("ETIME", ETIME), Map.entry("EOVERFLOW", EOVERFLOW),
            Map.entry("EILSEQ", EILSEQ), Map.entry("ENOTSUP", ENOTSUP), Map.entry("EOPNOTSUPP", ENOTSUP),
            Map.entry("ECONNRESET", ECONNRESET), Map.entry("ESHUTDOWN", ESHUTDOWN),
            Map.entry("ETIMEDOUT", ETIMEDOUT), Map.entry("EDQUOT", EDQUOT), Map.entry("ECANCELED", ECANCELED),
            Map.entry("EMEDIUMTYPE", EMEDIUMTYPE));

    private Errno() {
    }

    /** The errno for a name such as "EIO", if known. */
    public static Optional<Integer> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name.toUpperCase(java.util.Locale.ROOT)));
    }

    /** The canonical name of an errno value, or "errno N". */
    public static String name(int errno) {
        String best = null;
        for (Map.Entry<String, Integer> e : BY_NAME.entrySet()) {
            if (e.getValue() == errno && !e.getKey().equals("EOPNOTSUPP")) {
                best = e.getKey();
            }
        }
        return best != null ? best : "errno " + errno;
    }
}
