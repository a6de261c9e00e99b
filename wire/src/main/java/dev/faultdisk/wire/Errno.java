package dev.faultdisk.wire;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Linux errno values by name: what devices and faults fail with, what rules name ({@code
 * "errno": "ENOSPC"}) and what the NBD frontend maps to NBD errors.
 */
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
    public static final int EMEDIUMTYPE = 124;
    public static final int ECANCELED = 125;

    /** Canonical names in errno order. */
    private static final Map<String, Integer> BY_NAME;

    static {
        Object[] table = {
            "EPERM",
            EPERM,
            "ENOENT",
            ENOENT,
            "EIO",
            EIO,
            "ENXIO",
            ENXIO,
            "E2BIG",
            E2BIG,
            "EBADF",
            EBADF,
            "EAGAIN",
            EAGAIN,
            "ENOMEM",
            ENOMEM,
            "EACCES",
            EACCES,
            "EFAULT",
            EFAULT,
            "EBUSY",
            EBUSY,
            "EEXIST",
            EEXIST,
            "ENODEV",
            ENODEV,
            "EINVAL",
            EINVAL,
            "EFBIG",
            EFBIG,
            "ENOSPC",
            ENOSPC,
            "ESPIPE",
            ESPIPE,
            "EROFS",
            EROFS,
            "EPIPE",
            EPIPE,
            "ERANGE",
            ERANGE,
            "ENOSYS",
            ENOSYS,
            "ENODATA",
            ENODATA,
            "ETIME",
            ETIME,
            "EOVERFLOW",
            EOVERFLOW,
            "EILSEQ",
            EILSEQ,
            "ENOTSUP",
            ENOTSUP,
            "ECONNRESET",
            ECONNRESET,
            "ESHUTDOWN",
            ESHUTDOWN,
            "ETIMEDOUT",
            ETIMEDOUT,
            "EDQUOT",
            EDQUOT,
            "EMEDIUMTYPE",
            EMEDIUMTYPE,
            "ECANCELED",
            ECANCELED,
        };
        Map<String, Integer> byName = new LinkedHashMap<>();
        for (int i = 0; i < table.length; i += 2) {
            byName.put((String) table[i], (Integer) table[i + 1]);
        }
        BY_NAME = Collections.unmodifiableMap(byName);
    }

    private Errno() {}

    /** The errno for a name such as "EIO" (any case; EOPNOTSUPP is ENOTSUP), if known. */
    public static Optional<Integer> byName(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return Optional.ofNullable(BY_NAME.get(upper.equals("EOPNOTSUPP") ? "ENOTSUP" : upper));
    }

    /**
     * The number of {@code text}: a name such as {@code ENOSPC} (any case) or a decimal number.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static int parse(String text) {
        String t = text.trim();
        if (!t.isEmpty() && t.chars().allMatch(Character::isDigit)) {
            return Integer.parseInt(t);
        }
        return byName(t)
                .orElseThrow(() -> new IllegalArgumentException("unknown errno '" + text + "' (a number, or one of "
                        + String.join(", ", BY_NAME.keySet()) + ")"));
    }

    /** The canonical name of {@code errno}, if it has one here. */
    public static Optional<String> knownName(int errno) {
        return BY_NAME.entrySet().stream()
                .filter(e -> e.getValue() == errno)
                .map(Map.Entry::getKey)
                .findFirst();
    }

    /** The canonical name of {@code errno}, or "errno N". */
    public static String name(int errno) {
        return knownName(errno).orElse("errno " + errno);
    }

    /** Every canonical name, in errno order. */
    public static Iterable<String> names() {
        return BY_NAME.keySet();
    }
}
