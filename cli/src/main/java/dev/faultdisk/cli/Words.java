package dev.faultdisk.cli;

import java.util.List;
import java.util.stream.Collectors;

/** Small pieces of the commands' English output. */
final class Words {
    private Words() {}

    /** {@code noun} for one, else its plural with an s: "rule", "rules". */
    static String noun(long n, String noun) {
        return n == 1 ? noun : noun + "s";
    }

    /** The count and the noun: "1 rule", "3 rules", "0 rules". */
    static String count(long n, String noun) {
        return n + " " + noun(n, noun);
    }

    /** A rule member's value as the command line writes it: a list joined with '+' (ops=read+write). */
    static String value(Object value) {
        return value instanceof List<?> list
                ? list.stream().map(String::valueOf).collect(Collectors.joining("+"))
                : String.valueOf(value);
    }

    /** Ids as a list for people: "1, 2, 5". */
    static String ids(List<Long> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }
}
