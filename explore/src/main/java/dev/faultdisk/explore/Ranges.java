package dev.faultdisk.explore;

import java.util.Collection;
import java.util.SortedSet;
import java.util.TreeSet;

/** Sets of entry numbers written compactly, as "3-7,9,12-15". */
final class Ranges {
    private Ranges() {}

    static String format(Collection<Long> numbers) {
        StringBuilder b = new StringBuilder();
        long start = -1;
        long prev = -2;
        for (long n : new TreeSet<>(numbers)) {
            if (n == prev + 1) {
                prev = n;
                continue;
            }
            flush(b, start, prev);
            start = n;
            prev = n;
        }
        flush(b, start, prev);
        return b.toString();
    }

    private static void flush(StringBuilder b, long start, long end) {
        if (start < 0) {
            return;
        }
        if (!b.isEmpty()) {
            b.append(',');
        }
        b.append(start);
        if (end > start) {
            b.append('-').append(end);
        }
    }

    static SortedSet<Long> parse(String text) {
        SortedSet<Long> out = new TreeSet<>();
        if (text.isBlank()) {
            return out;
        }
        for (String part : text.split(",")) {
            int dash = part.indexOf('-');
            try {
                long a = Long.parseLong(
                        dash < 0 ? part.strip() : part.substring(0, dash).strip());
                long z = dash < 0 ? a : Long.parseLong(part.substring(dash + 1).strip());
                if (a < 0 || z < a || z - a > 10_000_000) {
                    throw new IllegalArgumentException("bad range '" + part + "'");
                }
                for (long i = a; i <= z; i++) {
                    out.add(i);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad range '" + part + "'");
            }
        }
        return out;
    }
}
