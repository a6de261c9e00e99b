package dev.faultdisk.cli.campaign;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A campaign enum named in files and reports by its constant's name in lower case with hyphens
 * ({@code WRITE_FAULTS} is {@code write-faults}): the rule is written here once.
 */
public interface WireNamed {
    String name();

    default String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant of {@code values} whose wire name is exactly {@code name}. */
    static <E extends WireNamed> Optional<E> byName(E[] values, String name) {
        return Arrays.stream(values).filter(v -> v.wireName().equals(name)).findFirst();
    }

    /** Every wire name, in declaration order. */
    static List<String> names(WireNamed[] values) {
        return Arrays.stream(values).map(WireNamed::wireName).toList();
    }
}
