package dev.faultdisk.cli;

import dev.faultdisk.wire.json.Json;
import java.util.Map;

/**
 * The line each member of a JSON text starts on, by path ({@code exports[1].faults[0].ops}), so
 * that a problem found in the parsed value can name its line. The lines come from the project's
 * JSON codec ({@link Json#memberLines}); on a text it refuses, the lines found before the problem.
 */
public final class JsonPositions {
    private final Map<String, Integer> lines;

    private JsonPositions(Map<String, Integer> lines) {
        this.lines = lines;
    }

    public static JsonPositions of(String text) {
        return new JsonPositions(Json.memberLines(text));
    }

    /** The line of {@code path}, or of the nearest enclosing member that has one (1 at worst). */
    public int lineOf(String path) {
        String p = path;
        while (!p.isEmpty()) {
            Integer found = lines.get(p);
            if (found != null) {
                return found;
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut < 0 ? "" : p.substring(0, cut);
        }
        return lines.getOrDefault("", 1);
    }
}
