package dev.faultdisk.client;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Linux errno numbers by name, for rules written as {@code errno("ENOSPC")}. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;

    private static final Map<String, Integer> BY_NAME = new LinkedHashMap<>();

    static {
        Object[] table = {
            "EPERM", 1, "ENOENT", 2, "EIO", 5, "ENXIO", 6, "E2BIG", 7, "EBADF", 9, "EAGAIN", 11,
            "ENOMEM", 12, "EACCES", 13, "EFAULT", 14, "EBUSY", 16, "EEXIST", 17, "ENODEV", 19,
            "EINVAL", 22, "EFBIG", 27, "ENOSPC", 28, "ESPIPE", 29, "EROFS", 30, "EPIPE", 32,
            "ERANGE", 34, "ENOSYS", 38, "ENODATA", 61, "ETIME", 62, "EOVERFLOW", 75, "EILSEQ", 84,
            "ENOTSUP", 95, "ECONNRESET", 104, "ESHUTDOWN", 108, "ETIMEDOUT", 110, "EDQUOT", 122,
            "EMEDIUMTYPE", 124, "ECANCELED", 125,
        };
        for (int i = 0; i < table.length; i += 2) {
            BY_NAME.put((String) table[i], (Integer) table[i + 1]);
        }
    }

    private Errno() {
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
        Integer n = BY_NAME.get(t.toUpperCase(Locale.ROOT));
        if (n == null) {
            throw new IllegalArgumentException("unknown errno '" + text + "' (a number, or one of "
                    + String.join(", ", BY_NAME.keySet()) + ")");
        }
        return n;
    }

    /** The name of {@code number}, if it has one here. */
    public static Optional<String> name(int number) {
        return BY_NAME.entrySet().stream().filter(e -> e.getValue() == number).map(Map.Entry::getKey).findFirst();
    }

    /** Every name known here, in errno order. */
    public static Iterable<String> names() {
        return BY_NAME.keySet();
    }
}
