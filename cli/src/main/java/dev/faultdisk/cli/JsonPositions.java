package dev.faultdisk.cli;

import java.util.HashMap;
import java.util.Map;

/**
 * The line each member of a JSON text starts on, by path ({@code exports[1].faults[0].ops}), so
 * that a problem found in the parsed value can name its line. Runs on text the JSON parser has
 * accepted (double or single quotes); on anything else it keeps what it found so far.
 */
public final class JsonPositions {
    private final String text;
    private final Map<String, Integer> lines = new HashMap<>();
    private int pos;
    private int line = 1;

    private JsonPositions(String text) {
        this.text = text;
    }

    public static JsonPositions of(String text) {
        JsonPositions p = new JsonPositions(text);
        try {
            p.value("");
        } catch (RuntimeException e) {
            // Not JSON after all: the parser reports that; lines found so far still serve.
        }
        return p;
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

    private void value(String path) {
        skipSpace();
        lines.putIfAbsent(path, line);
        char c = text.charAt(pos);
        if (c == '{') {
            pos++;
            while (true) {
                skipSpace();
                if (text.charAt(pos) == '}') {
                    pos++;
                    return;
                }
                int keyLine = line;
                String key = string();
                skipSpace();
                pos++; // ':'
                String member = path.isEmpty() ? key : path + "." + key;
                lines.put(member, keyLine);
                value(member);
                if (endOfContainer('}')) {
                    return;
                }
            }
        } else if (c == '[') {
            pos++;
            for (int i = 0; ; i++) {
                skipSpace();
                if (text.charAt(pos) == ']') {
                    pos++;
                    return;
                }
                value(path + "[" + i + "]");
                if (endOfContainer(']')) {
                    return;
                }
            }
        } else if (c == '"' || c == '\'') {
            string();
        } else {
            while (pos < text.length() && ",]} \t\r\n".indexOf(text.charAt(pos)) < 0) {
                pos++;
            }
        }
    }

    /** After a member or element: true at the container's end (consumed), false after a comma. */
    private boolean endOfContainer(char close) {
        skipSpace();
        char c = text.charAt(pos++);
        return c == close;
    }

    private String string() {
        char quote = text.charAt(pos++);
        StringBuilder sb = new StringBuilder();
        while (text.charAt(pos) != quote) {
            char c = text.charAt(pos++);
            if (c == '\\') {
                c = text.charAt(pos++);
            }
            sb.append(c);
        }
        pos++;
        return sb.toString();
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            if (text.charAt(pos) == '\n') {
                line++;
            }
            pos++;
        }
    }
}
