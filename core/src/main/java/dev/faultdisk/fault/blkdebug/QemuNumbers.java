package dev.faultdisk.fault.blkdebug;

/**
 * Parses option values the way QEMU's option code does, so that configuration files mean the same
 * thing here: numbers like C's {@code strtoull(s, &end, 0)} with nothing after them (leading
 * white space, a sign, {@code 0x} hex and {@code 0} octal allowed; a minus sign negates modulo
 * 2^64), booleans as {@code on/yes/true/y} and {@code off/no/false/n}.
 */
final class QemuNumbers {
    private QemuNumbers() {}

    /** Thrown for text that is not a number; {@link #tooLarge} tells the two QEMU messages apart. */
    static final class BadNumber extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean tooLarge;

        BadNumber(boolean tooLarge) {
            super(null, null, false, false);
            this.tooLarge = tooLarge;
        }
    }

    /** The unsigned 64-bit value of {@code text}, as a long holding the same bits. */
    static long parseU64(String text) throws BadNumber {
        int i = 0;
        int n = text.length();
        while (i < n && isSpace(text.charAt(i))) {
            i++;
        }
        boolean negative = false;
        if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
            negative = text.charAt(i) == '-';
            i++;
        }
        int radix = 10;
        if (i + 1 < n
                && text.charAt(i) == '0'
                && (text.charAt(i + 1) == 'x' || text.charAt(i + 1) == 'X')
                && i + 2 < n
                && Character.digit(text.charAt(i + 2), 16) >= 0) {
            radix = 16;
            i += 2;
        } else if (i < n && text.charAt(i) == '0') {
            radix = 8;
        }
        int start = i;
        long value = 0;
        boolean overflow = false;
        while (i < n) {
            int d = digit(text.charAt(i), radix);
            if (d < 0) {
                break;
            }
            long shifted = value * radix;
            if (Long.compareUnsigned(value, Long.divideUnsigned(-1L, radix)) > 0
                    || Long.compareUnsigned(shifted + d, shifted) < 0) {
                overflow = true;
            }
            value = shifted + d;
            i++;
        }
        if (i == start) {
            throw new BadNumber(false); // no digits at all
        }
        if (i != n) {
            throw new BadNumber(false); // something after the number; QEMU checks this before overflow
        }
        if (overflow) {
            throw new BadNumber(true);
        }
        return negative ? -value : value;
    }

    private static int digit(char c, int radix) {
        if (c >= '0' && c <= '9') {
            int d = c - '0';
            return d < radix ? d : -1;
        }
        if (radix == 16) {
            if (c >= 'a' && c <= 'f') {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F') {
                return c - 'A' + 10;
            }
        }
        return -1;
    }

    /** C's isspace in the "C" locale. */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    /** QEMU's boolean spellings, or null if {@code text} is none of them. */
    static Boolean parseBool(String text) {
        return switch (text) {
            case "on", "yes", "true", "y" -> Boolean.TRUE;
            case "off", "no", "false", "n" -> Boolean.FALSE;
            default -> null;
        };
    }
}
