package dev.faultdisk.interop;

import org.junit.jupiter.api.Assertions;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough JSON reading for the flat objects nbdinfo and qemu-img print: scalar fields by key,
 * and the extent list of {@code nbdinfo --map --json}. The JDK has no JSON parser and the tests
 * take no dependency for one.
 */
final class Json {
    private static final Pattern EXTENT = Pattern.compile(
            "\\{\\s*\"offset\":\\s*(\\d+),\\s*\"length\":\\s*(\\d+),\\s*\"type\":\\s*(\\d+),\\s*\"description\":\\s*\"([^\"]*)\"\\s*}");

    private Json() {
    }

    /** The raw text of the scalar value of the first field named {@code key}; fails if absent. */
    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|[-\\w.]+)").matcher(json);
        Assertions.assertTrue(m.find(), () -> "no field \"" + key + "\" in:\n" + json);
        String value = m.group(1);
        return value.startsWith("\"") ? value.substring(1, value.length() - 1) : value;
    }

    static long number(String json, String key) {
        return Long.parseLong(field(json, key));
    }

    static boolean bool(String json, String key) {
        String value = field(json, key);
        Assertions.assertTrue(value.equals("true") || value.equals("false"), () -> key + " is not a boolean: " + value);
        return Boolean.parseBoolean(value);
    }

    /** One extent of {@code nbdinfo --map --json}: type 0 is data, 3 is hole and zero. */
    record Extent(long offset, long length, int type, String description) {
        @Override
        public String toString() {
            return offset + "+" + length + ":" + description;
        }
    }

    static List<Extent> extents(String json) {
        List<Extent> out = new ArrayList<>();
        Matcher m = EXTENT.matcher(json);
        while (m.find()) {
            out.add(new Extent(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3)),
                    m.group(4)));
        }
        Assertions.assertFalse(out.isEmpty(), () -> "no extents in:\n" + json);
        return out;
    }
}
