package dev.faultdisk.wire.json;

/**
 * QEMU's notion of text: modified UTF-8 (the two-byte form {@code C0 80} stands for U+0000),
 * without surrogates, noncharacters or overlong forms. Used to validate string tokens and to turn
 * the raw bytes of a bad token into a printable message the way QEMU's output does.
 */
final class ModifiedUtf8 {
    /** Smallest code point for a sequence of 2..6 bytes; smaller ones are overlong. */
    private static final int[] MIN_CODE_POINT = {0x80, 0x800, 0x10000, 0x200000, 0x4000000};

    private ModifiedUtf8() {}

    /**
     * Decodes one code point at {@code pos} (before {@code end}).
     *
     * @return the code point in the low 32 bits (-1 if invalid) and the position after the bytes
     *         consumed in the high 32 bits; an invalid sequence consumes what was examined
     */
    static long decode(byte[] bytes, int pos, int end) {
        int p = pos;
        int lead = bytes[p++] & 0xFF;
        int cp;
        if (lead < 0x80) {
            cp = lead;
        } else if (lead >= 0xFE || (lead & 0x40) == 0) {
            cp = -1; // impossible byte, or a continuation byte where a lead byte belongs
        } else {
            int length = Integer.numberOfLeadingZeros(~(lead << 24));
            cp = lead & (0x7F >> length);
            for (int i = 1; i < length; i++) {
                int next = p < end ? bytes[p] & 0xFF : 0;
                if ((next & 0xC0) != 0x80) {
                    return pack(-1, p);
                }
                p++;
                cp = (cp << 6) | (next & 0x3F);
            }
            if (!isValidCodePoint(cp)) {
                cp = -1;
            } else if (cp < MIN_CODE_POINT[length - 2] && !(cp == 0 && length == 2)) {
                cp = -1;
            }
        }
        return pack(cp, p);
    }

    static int codePoint(long decoded) {
        return (int) decoded;
    }

    static int next(long decoded) {
        return (int) (decoded >>> 32);
    }

    private static long pack(int cp, int next) {
        return ((long) next << 32) | (cp & 0xFFFFFFFFL);
    }

    /** A Unicode scalar value that is not a noncharacter. */
    static boolean isValidCodePoint(int cp) {
        if (cp < 0 || cp > 0x10FFFF) {
            return false;
        }
        if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
            return false;
        }
        return cp < 0xD800 || cp > 0xDFFF;
    }

    /**
     * Decodes leniently: each invalid sequence becomes U+FFFD, and the text ends at the first NUL
     * byte as a C string would. This is how QEMU prints the offending bytes in a parse error.
     */
    static String lenient(byte[] bytes, int start, int end) {
        StringBuilder out = new StringBuilder(end - start);
        int p = start;
        while (p < end && bytes[p] != 0) {
            long d = decode(bytes, p, end);
            int cp = codePoint(d);
            out.appendCodePoint(cp < 0 ? 0xFFFD : cp);
            p = next(d);
        }
        return out.toString();
    }
}
