package dev.faultdisk.wire.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Whole-text JSON: every kind of value, pretty writing for people, and what parse refuses. */
class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"s\": \"a\\\"\\u00e9\\n\", \"i\": -12, \"big\": 18446744073709551615, \"d\": 1.5e3,"
                + " \"t\": true, \"f\": false, \"n\": null, \"l\": [1, [], {}]} ");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"é\n");
        m.put("i", -12L);
        m.put("big", new BigInteger("18446744073709551615"));
        m.put("d", 1500.0);
        m.put("t", true);
        m.put("f", false);
        m.put("n", null);
        m.put("l", List.of(1L, List.of(), Map.of()));
        assertEquals(m, v);
        assertEquals(List.of("s", "i", "big", "d", "t", "f", "n", "l"), new ArrayList<>(((Map<?, ?>) v).keySet()));
    }

    @Test
    void memberLinesNameWhereEachMemberAndElementStarts() {
        String text = """
                {
                  "nbd": "127.0.0.1:0",
                  'exports': [
                    {"name": "a"},
                    {
                      "name": "b",
                      "ops":
                        ["read"]
                    }
                  ]
                }""";
        Map<String, Integer> lines = Json.memberLines(text);
        assertEquals(1, lines.get(""));
        assertEquals(2, lines.get("nbd"));
        assertEquals(3, lines.get("exports"), "a member starts at its key");
        assertEquals(4, lines.get("exports[0]"));
        assertEquals(4, lines.get("exports[0].name"));
        assertEquals(5, lines.get("exports[1]"));
        assertEquals(7, lines.get("exports[1].ops"));
        assertEquals(8, lines.get("exports[1].ops[0]"));
        assertEquals(9, lines.size());

        Map<String, Integer> cut = Json.memberLines("{\"a\": 1,\n \"b\": [2,\n 3 4]}");
        assertEquals(Map.of("", 1, "a", 1, "b", 2, "b[0]", 2, "b[1]", 3), cut, "what was found before the problem");
        assertEquals(Map.of("", 1), Json.memberLines("{{\"a\": [1]}: 2}"), "a key that is not a string has no path");
        assertEquals(
                Map.of(),
                Json.memberLines("[".repeat(100_000)),
                "too deep for the parser: no lines, no stack overflow");
    }

    @Test
    void writesOneLineAsciiAndPrettyForPeople() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of(1, 2L, "\u00e9\u0001"));
        m.put("b", Map.of());
        m.put("c", List.of());
        assertEquals("{\"a\": [1, 2, \"\\u00E9\\u0001\"], \"b\": {}, \"c\": []}", Json.write(m));
        assertEquals(
                "{\n  \"a\": [\n    1,\n    2,\n    \"\\u00E9\\u0001\"\n  ],\n  \"b\": {},\n  \"c\": []\n}",
                Json.writePretty(m));
        assertEquals("\"x\"", Json.writePretty("x"));
    }

    @Test
    void describesValuesForMessages() {
        assertEquals(
                List.of(
                        "null",
                        "a string",
                        "a boolean",
                        "an integer",
                        "an integer",
                        "a number",
                        "an object",
                        "an array"),
                java.util.stream.Stream.of(
                                null, "s", true, 1L, new BigInteger("18446744073709551615"), 1.5, Map.of(), List.of())
                        .map(Json::describe)
                        .toList());
    }

    @Test
    void parseObjectWantsAnObjectAndParseExactlyOneValue() {
        assertEquals(Map.of("a", 1L), Json.parseObject("{'a': 1}"));
        assertEquals(
                "expected a JSON object, got an array",
                assertThrows(JsonException.class, () -> Json.parseObject("[]")).getMessage());
        assertEquals(
                "expected one JSON value, found 2",
                assertThrows(JsonException.class, () -> Json.parse("1 2")).getMessage());
        assertEquals(
                "no JSON value in the input",
                assertThrows(JsonException.class, () -> Json.parse(" ")).getMessage());
        JsonException bad = assertThrows(JsonException.class, () -> Json.parse("{\"steps\": [\n{]}"));
        assertEquals("JSON parse error, expecting value", bad.getMessage());
        assertEquals("line 2, column 2: JSON parse error, expecting value", bad.messageWithPlace());
        assertEquals(
                "line 1, column 7: JSON parse error, stray '@'",
                assertThrows(JsonException.class, () -> Json.parse("['\u00e9', @]"))
                        .messageWithPlace());
        assertEquals(
                "line 3, column 1: JSON parse error, premature EOI",
                assertThrows(JsonException.class, () -> Json.parse("{'a':\n1,\n"))
                        .messageWithPlace());
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[".repeat(2000) + "]".repeat(2000)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    /** Random values written on one line or pretty read back equal (seeded). */
    @Test
    void roundTripsRandomValues() {
        long seed = 20240611L;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 500; i++) {
            Object value = randomValue(random, 0);
            String where = "seed " + seed + ", case " + i + ": " + Json.write(value);
            assertEquals(value, Json.parse(Json.write(value)), where);
            assertEquals(value, Json.parse(Json.writePretty(value)), where);
        }
    }

    private static Object randomValue(SplittableRandom r, int depth) {
        int kind = r.nextInt(depth > 3 ? 5 : 7);
        return switch (kind) {
            case 0 -> null;
            case 1 -> r.nextBoolean();
            case 2 -> r.nextLong();
            case 3 -> (double) r.nextInt() / 7.0;
            case 4 -> randomString(r);
            case 5 -> {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    l.add(randomValue(r, depth + 1));
                }
                yield l;
            }
            default -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    m.put(randomString(r), randomValue(r, depth + 1));
                }
                yield m;
            }
        };
    }

    private static String randomString(SplittableRandom r) {
        String alphabet = "ab \"\\/\n\t\u0001é€日";
        StringBuilder sb = new StringBuilder();
        for (int i = r.nextInt(6); i > 0; i--) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
