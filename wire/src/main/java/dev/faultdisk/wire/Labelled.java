package dev.faultdisk.wire;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** An enum constant named on the wire and on the command line by a label such as {@code lying-flush}. */
interface Labelled {
    String label();

    /**
     * The constant labelled {@code text}, ignoring case, surrounding spaces and {@code _} for
     * {@code -}; the error names {@code what} and lists the labels.
     */
    static <E extends Labelled> E parse(E[] values, String text, String what) {
        String wanted = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (E value : values) {
            if (value.label().equals(wanted)) {
                return value;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + text + "' (" + labels(values) + ")");
    }

    /** Every label, in declaration order, joined by ", ". */
    static String labels(Labelled[] values) {
        return Arrays.stream(values).map(Labelled::label).collect(Collectors.joining(", "));
    }
}
