package dev.faultdisk.wire.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonWriterTest {

    @Test
    void writesOnOneLineWithQemusSpacing() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("return", Map.of());
        map.put("id", List.of(1, "a", true, Arrays.asList(null, 2.5)));
        assertEquals("{\"return\": {}, \"id\": [1, \"a\", true, [null, 2.5]]}", Json.write(map));
        assertEquals("[]", Json.write(List.of()));
        assertEquals("18446744073709551615", Json.write(new BigInteger("18446744073709551615")));
    }

    @Test
    void membersAreWrittenAsTheMapWithTheSameMembersWouldBe() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("seconds", 1_764_576_000L);
        inner.put("microseconds", 7L);
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("timestamp", inner);
        map.put("event", "FAULT_INJECTED");
        map.put("data", Map.of("offset", Long.MIN_VALUE));
        map.put("none", Map.of());
        map.put("list", List.of(1L, "caf\u00e9"));
        JsonMembers members = out -> {
            out.member("timestamp", (JsonMembers) time -> {
                time.member("seconds", 1_764_576_000L);
                time.member("microseconds", 7L);
            });
            out.member("event", "FAULT_INJECTED");
            out.member("data", (JsonMembers) data -> data.member("offset", Long.MIN_VALUE));
            out.member("none", (JsonMembers) empty -> {});
            out.member("list", List.of(1L, "caf\u00e9"));
        };
        assertEquals(Json.write(map), Json.write(members));
        assertEquals(Json.writePretty(map), Json.writePretty(members));
        assertEquals(List.of(map), Json.parse(Json.write(List.of(members))));
        Map<String, Object> filled = new LinkedHashMap<>();
        ((JsonMembers) out -> out.member("n", 5L)).writeMembers(filled::put);
        assertEquals(Map.of("n", 5L), filled, "a map takes the members too, numbers boxed");
    }

    @Test
    void escapesLikeQemuAndStaysAscii() {
        assertEquals("\"\\\" \\\\ / \\b \\f \\n \\r \\t\"", Json.write("\" \\ / \b \f \n \r \t"));
        assertEquals("\"\\u0000\\u0001\\u001F\\u007F\"", Json.write("\u0000\u0001\u001f\u007f"));
        assertEquals("\"caf\\u00E9 \\u20AC\"", Json.write("caf\u00e9 \u20ac"));
        assertEquals("\"\\uD83D\\uDE00\"", Json.write("\uD83D\uDE00"));
        // Not valid characters: lone surrogates and noncharacters become U+FFFD.
        assertEquals("\"\\uFFFDx\\uFFFD\"", Json.write("\uD800x\uDC00"));
        assertEquals("\"\\uFFFD\\uFFFD\"", Json.write("\uFFFE\uFDD0"));
        assertEquals("\"\\uFFFD\"", Json.write("\uDBFF\uDFFF")); // U+10FFFF is a noncharacter
    }

    @Test
    void convertsCommonJavaValues() {
        enum Mode {
            READ_ONLY
        }
        JsonConvertible point = () -> Map.of("x", 1);
        assertEquals(
                "[\"READ_ONLY\", {\"x\": 1}, 3, 7, 1.5, null]",
                Json.write(new Object[] {Mode.READ_ONLY, point, (short) 3, 7L, 1.5f, Double.NaN}));
        assertThrows(JsonException.class, () -> Json.write(new Object()));
        assertThrows(JsonException.class, () -> Json.write(Map.of(1, 2)));
    }

    @Test
    void randomValuesSurviveARoundTrip() {
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            Object value = randomValue(random, 0);
            String text = Json.write(value);
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) >= 0x7F || text.charAt(i) < 0x20) {
                    throw new AssertionError("seed " + seed + ": not ASCII at " + i + ": " + text);
                }
            }
            assertEquals(value, Json.parse(text), "seed " + seed + ": " + text);
        }
    }

    private static Object randomValue(SplittableRandom random, int depth) {
        int kind = random.nextInt(depth > 3 ? 5 : 7);
        return switch (kind) {
            case 0 -> null;
            case 1 -> random.nextBoolean();
            case 2 -> random.nextLong();
            case 3 -> random.nextDouble(-1e6, 1e6);
            case 4 -> randomString(random);
            case 5 -> {
                Map<String, Object> map = new LinkedHashMap<>();
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    map.put(randomString(random), randomValue(random, depth + 1));
                }
                yield map;
            }
            default -> {
                List<Object> list = new ArrayList<>();
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    list.add(randomValue(random, depth + 1));
                }
                yield list;
            }
        };
    }

    private static String randomString(SplittableRandom random) {
        StringBuilder s = new StringBuilder();
        int n = random.nextInt(8);
        for (int i = 0; i < n; i++) {
            int cp;
            do {
                cp = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(0, 0x80);
                    case 1 -> random.nextInt(0x80, 0xD800);
                    case 2 -> random.nextInt(0xE000, 0x10000);
                    default -> random.nextInt(0x10000, 0x110000);
                };
            } while (!ModifiedUtf8.isValidCodePoint(cp)); // the others are written as U+FFFD
            s.appendCodePoint(cp);
        }
        return s.toString();
    }
}
