package dev.faultdisk.client;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client's own JSON: exact forms, errors with positions, and agreement with the server's codec. */
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
    void writesOneLineAsciiAndPrettyForPeople() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of(1, 2L, "é\u0001"));
        m.put("b", Map.of());
        assertEquals("{\"a\": [1, 2, \"\\u00e9\\u0001\"], \"b\": {}}", Json.write(m));
        assertEquals("{\n  \"a\": [\n    1,\n    2,\n    \"\\u00e9\\u0001\"\n  ],\n  \"b\": {}\n}", Json.writePretty(m));
        assertEquals("{\"type\": \"inject-error\", \"event\": \"read_aio\", \"errno\": 28}",
                Json.write(BlkdebugRule.injectError("read_aio").errno(28)));
    }

    @Test
    void errorsSayWhereAndWhat() {
        record Case(String text, int line, int column, String what) {
        }
        for (Case c : List.of(
                new Case("{\"a\": 1,\n \"a\": 2}", 2, 2, "duplicate key \"a\""),
                new Case("[1 2]", 1, 4, "expected ',' or ']'"),
                new Case("{\"a\" 1}", 1, 6, "expected ':'"),
                new Case("{\n\n  'x': 1}", 3, 3, "expected a string key"),
                new Case("[1,]", 1, 4, "unexpected ']'"),
                new Case("tru", 1, 1, "expected true"),
                new Case("01", 1, 2, "unexpected '1' after the value"),
                new Case("\"a\tb\"", 1, 3, "control character"),
                new Case("\"\\x\"", 1, 2, "invalid escape"),
                new Case("[", 1, 2, "unexpected end of input"),
                new Case("1.", 1, 3, "digits expected"),
                new Case("\"abc", 1, 5, "unterminated string"))) {
            JsonParseException e = assertThrows(JsonParseException.class, () -> Json.parse(c.text), c.text);
            assertEquals(c.line, e.line(), c.text + ": " + e.getMessage());
            assertEquals(c.column, e.column(), c.text + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(c.what), c.text + ": " + e.getMessage());
        }
        assertThrows(JsonParseException.class, () -> Json.parse("[".repeat(600) + "]".repeat(600)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    /** Random values written by either codec read back equal with the other (seeded). */
    @Test
    void agreesWithTheServersCodecOnRandomValues() {
        long seed = 20240611L;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 500; i++) {
            Object value = randomValue(random, 0);
            String mine = Json.write(value);
            String theirs = dev.faultdisk.qmp.json.Json.write(value);
            String where = "seed " + seed + ", case " + i + ": " + mine;
            assertEquals(value, dev.faultdisk.qmp.json.Json.parse(mine), where);
            assertEquals(value, Json.parse(theirs), where);
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
