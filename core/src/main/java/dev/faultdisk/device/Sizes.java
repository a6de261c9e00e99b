package dev.faultdisk.device;

import java.util.Locale;

/** Parses and prints byte sizes such as {@code 512}, {@code 64K}, {@code 1G}, {@code 1TiB}. */
public final class Sizes {
    private Sizes() {}

    /** Parses a size with an optional binary suffix (K, M, G, T, P; optional "iB" or "B"). */
    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("B")) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty()) {
            shift = switch (s.charAt(s.length() - 1)) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                case 'P' -> 50;
                default -> 0;
            };
        }
        if (shift != 0) {
            s = s.substring(0, s.length() - 1);
        }
        long value;
        try {
            value = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 512, 64K, 1G, 1T)");
        }
        if (value < 0 || (shift > 0 && value > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException("size out of range: '" + text + "'");
        }
        return value << shift;
    }

    /** A short human form: 1073741824 -> "1 GiB", 1536 -> "1536 B". */
    public static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int unit = 0;
        long v = bytes;
        while (unit < units.length - 1 && v != 0 && v % 1024 == 0) {
            v /= 1024;
            unit++;
        }
        return v + " " + units[unit];
    }
}
