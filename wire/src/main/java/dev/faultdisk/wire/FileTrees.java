package dev.faultdisk.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Files under a directory, taken as a whole. */
public final class FileTrees {
    private FileTrees() {}

    /**
     * Deletes {@code dir} and everything under it, deepest first; a file gone meanwhile is not an
     * error. Symbolic links are deleted, not followed.
     */
    public static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
