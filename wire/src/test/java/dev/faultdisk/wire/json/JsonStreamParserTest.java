package dev.faultdisk.wire.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonStreamParserTest {

    /** A stream with commands, quoting styles, escapes, numbers, garbage and recovery points. */
    private static final byte[] STREAM = bytes(
            "{ \"execute\": \"qmp_capabilities\" }\r\n",
            "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\",\n",
            "\"rules\":[{\"event\": \"write_aio\", \"type\": \"inject-error\", \"immediately\":\n",
            "1, \"once\": 0, \"state\": 1}]}}",
            "{'execute':'x','id':'it\\'s \"quoted\"'}",
            "@#garbage!",
            "[1, -2.5e3, 0, 9223372036854775808, true, false, null, \"\\u00e9\\n\\ud83d\\ude00\"]",
            "{\"a\" 1}",
            "\u00ff",
            "{\"execute\":\"query-version\",\"id\":{\"n\":[1,{}]}}");

    @Test
    void parsesTheStreamInOneGo() {
        List<JsonStreamParser.Result> results = parseAll(STREAM);
        assertEquals(8, results.size(), results.toString());
        assertEquals(Map.of("execute", "qmp_capabilities"), value(results.get(0)));
        Map<?, ?> seed = (Map<?, ?>) value(results.get(1));
        Map<?, ?> rule = (Map<?, ?>) ((List<?>) ((Map<?, ?>) seed.get("arguments")).get("rules")).getFirst();
        assertEquals(1L, rule.get("immediately"));
        assertEquals(0L, rule.get("once"));
        assertEquals(Map.of("execute", "x", "id", "it's \"quoted\""), value(results.get(2)));
        assertEquals(failure("JSON parse error, stray '@'"), results.get(3));
        assertEquals(
                Arrays.asList(
                        1L,
                        -2500.0,
                        0L,
                        new BigInteger("9223372036854775808"),
                        true,
                        false,
                        null,
                        "\u00e9\n\uD83D\uDE00"),
                value(results.get(4)));
        assertEquals(failure("JSON parse error, missing : in object pair"), results.get(5));
        // 0xff is not UTF-8 here: the raw byte, as QEMU prints it
        assertEquals(failure("JSON parse error, stray '\uFFFD'"), results.get(6));
        assertEquals(
                Map.of("execute", "query-version", "id", Map.of("n", List.of(1L, Map.of()))), value(results.get(7)));
    }

    @Test
    void everySplitPointGivesTheSameResults() {
        List<JsonStreamParser.Result> whole = parseAll(STREAM);
        for (int split = 0; split <= STREAM.length; split++) {
            JsonStreamParser parser = new JsonStreamParser();
            List<JsonStreamParser.Result> results = new ArrayList<>(parser.feed(STREAM, 0, split));
            results.addAll(parser.feed(STREAM, split, STREAM.length - split));
            results.addAll(parser.finish());
            assertEquals(whole, results, "split at " + split);
        }
    }

    @Test
    void byteByByteGivesTheSameResults() {
        JsonStreamParser parser = new JsonStreamParser();
        List<JsonStreamParser.Result> results = new ArrayList<>();
        for (int i = 0; i < STREAM.length; i++) {
            results.addAll(parser.feed(STREAM, i, 1));
        }
        results.addAll(parser.finish());
        assertEquals(parseAll(STREAM), results);
    }

    @Test
    void randomFragmentsGiveTheSameResults() {
        List<JsonStreamParser.Result> whole = parseAll(STREAM);
        for (long seed = 1; seed <= 200; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            JsonStreamParser parser = new JsonStreamParser();
            List<JsonStreamParser.Result> results = new ArrayList<>();
            int pos = 0;
            while (pos < STREAM.length) {
                int n = Math.min(STREAM.length - pos, random.nextInt(0, 40));
                results.addAll(parser.feed(STREAM, pos, n));
                pos += n;
            }
            results.addAll(parser.finish());
            assertEquals(whole, results, "seed " + seed);
        }
    }

    @Test
    void singleQuotedStringsAndEscapes() {
        String[][] textAndValue = {
            {"'say \"hi\"'", "say \"hi\""},
            {"'it\\'s'", "it's"},
            {"\"it\\'s\"", "it's"},
            {"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t"},
            {"\"\\u0000\\u0041\\u00E9\\u20ac\"", "\u0000A\u00e9\u20ac"},
            {"\"\\uD83D\\uDE00\"", "\uD83D\uDE00"},
            {"\"\u00e9\uD83D\uDE00\"", "\u00e9\uD83D\uDE00"}, // raw UTF-8
        };
        for (String[] c : textAndValue) {
            assertEquals(c[1], Json.parse(c[0]), c[0]);
        }
        assertEquals("\u0000", parseBytes(new byte[] {'"', (byte) 0xC0, (byte) 0x80, '"'})); // modified UTF-8 NUL
    }

    @Test
    void numbersFollowQemusTypes() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(new BigInteger("18446744073709551615"), Json.parse("18446744073709551615"));
        assertEquals(1.8446744073709552E19, Json.parse("18446744073709551616"));
        assertEquals(-0x1p63, Json.parse("-9223372036854775809"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(1.5, Json.parse("1.5"));
        assertEquals(100.0, Json.parse("1e2"));
        assertEquals(-0.025, Json.parse("-2.5E-2"));
    }

    @Test
    void topLevelScalarsAreValues() {
        JsonStreamParser parser = new JsonStreamParser();
        assertEquals(List.of(new JsonStreamParser.Value("x")), parser.feed(bytes("\"x\"")));
        assertEquals(List.of(), parser.feed(bytes("12")));
        assertEquals(List.of(new JsonStreamParser.Value(12L)), parser.feed(bytes(" ")));
        assertEquals(List.of(new JsonStreamParser.Value(true)), parser.feed(bytes("true\n")));
    }

    @Test
    void syntaxErrorsUseQemusWording() {
        assertFailure("{\"a\" 1}", "missing : in object pair");
        assertFailure("{1: 2}", "key is not a string in object");
        assertFailure("{\"a\": 1 \"b\": 2}", "expected separator in dict");
        assertFailure("[1 2]", "expected separator in list");
        assertFailure("}", "expecting value");
        assertFailure("{\"a\": }", "expecting value");
        assertFailure("[1,]", "expecting value");
        assertFailure("{\"a\": 1]", "expected separator in dict");
        assertFailure("nul ", "invalid keyword 'nul'");
        assertFailure("{\"a\": 1, \"a\": 2}", "duplicate key");
        assertFailure("\"\\x\"", "invalid escape sequence in string");
        assertFailure("\"\\uD800\"", "\\uD800 is not a valid Unicode character");
        assertFailure("\"\\uDC00x\"", "\\uDC00 is not a valid Unicode character");
        assertFailure("\"\\uD800\\u0041\"", "\\uD800 is not a valid Unicode character");
        assertFailure("\"\\uFFFF\"", "\\uFFFF is not a valid Unicode character");
        assertFailure("\"\\u12\"", "\\u12\" is not a valid Unicode character");
        assertFailure("@", "stray '@'");
        assertFailure("01", "stray '01'");
        assertFailure("-x", "stray '-x'");
        assertFailure("1.e", "stray '1.e'");
        assertFailure("\"ab\u0001\"", "stray '\"ab\u0001'");
        assertEquals(
                List.of(failure("JSON parse error, invalid UTF-8 sequence in string")),
                parseAll(new byte[] {'"', (byte) 0xC3, '(', '"'}));
        assertEquals(
                List.of(failure("JSON parse error, invalid UTF-8 sequence in string")),
                parseAll(new byte[] {'"', (byte) 0xE0, (byte) 0x80, (byte) 0x80, '"'})); // overlong
    }

    @Test
    void endOfInputReportsAnUnfinishedMessage() {
        assertFailure("{\"a\": 1", "premature EOI");
        assertEquals(List.of(failure("JSON parse error, stray '\"abc'")), parseAll(bytes("\"abc")));
    }

    @Test
    void recoversAfterGarbageLikeQemu() {
        // A lexical error skips to the next structural character, then parsing starts afresh.
        assertEquals(
                List.of(failure("JSON parse error, stray '@'"), new JsonStreamParser.Value(Map.of("b", 1L))),
                parseAll(bytes("@ not json {\"b\": 1}")));
        // Inside an object: the message is dropped; its '}' is then a stray closing brace.
        assertEquals(
                List.of(
                        failure("JSON parse error, stray '@'"),
                        failure("JSON parse error, expecting value"),
                        new JsonStreamParser.Value(Map.of("b", 1L))),
                parseAll(bytes("{\"a\": @}{\"b\": 1}")));
        // A control character resynchronises from inside a string.
        assertEquals(
                List.of(
                        failure("JSON parse error, stray '\"unterminated\u0001'"),
                        new JsonStreamParser.Value(Map.of("execute", "x"))),
                parseAll(bytes("\"unterminated\u0001{\"execute\": \"x\"}")));
        // So does 0xFF.
        List<JsonStreamParser.Result> results =
                parseAll(concat(bytes("{\"a\": \"b"), new byte[] {(byte) 0xFF}, bytes("{\"execute\": \"x\"}")));
        assertEquals(new JsonStreamParser.Value(Map.of("execute", "x")), results.getLast());
    }

    @Test
    void limitsEndTheMessageWithQemusText() {
        JsonLimits nesting = new JsonLimits(1 << 20, 1000, 3);
        // As in QEMU the rest of the message is then read as new input.
        assertEquals(
                List.of(
                        failure("JSON nesting depth limit exceeded"),
                        new JsonStreamParser.Value(1L),
                        failure("JSON parse error, expecting value"),
                        failure("JSON parse error, expecting value"),
                        failure("JSON parse error, expecting value"),
                        failure("JSON parse error, expecting value")),
                parseAll(bytes("[[[[1]]]]"), nesting));
        assertEquals(
                List.of(new JsonStreamParser.Value(List.of(List.of(List.of(1L))))),
                parseAll(bytes("[[[1]]]"), nesting));

        JsonLimits tokens = new JsonLimits(1 << 20, 5, 100);
        assertEquals(
                failure("JSON token count limit exceeded"),
                parseAll(bytes("[1,2,3,4]"), tokens).getFirst());

        JsonLimits size = new JsonLimits(32, 1000, 100);
        assertEquals(
                failure("JSON token size limit exceeded"),
                parseAll(bytes("[\"0123456789\", \"0123456789\", \"0123456789\"]"), size)
                        .getFirst());
        assertEquals(
                failure("JSON token size limit exceeded"),
                parseAll(bytes("\"" + "x".repeat(100) + "\""), size).getFirst());
    }

    @Test
    void objectsKeepMemberOrder() {
        Map<?, ?> map = (Map<?, ?>) Json.parse("{\"z\": 1, \"a\": 2, \"m\": 3}");
        assertInstanceOf(LinkedHashMap.class, map);
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(map.keySet()));
    }

    @Test
    void parseRejectsNothingOrSeveralValues() {
        assertTrue(assertThrowsJson("").contains("no JSON value"));
        assertTrue(assertThrowsJson("1 2").contains("found 2"));
        assertEquals("JSON parse error, expecting value", assertThrowsJson("]"));
    }

    private static String assertThrowsJson(String text) {
        return org.junit.jupiter.api.Assertions.assertThrows(JsonException.class, () -> Json.parse(text))
                .getMessage();
    }

    private static void assertFailure(String text, String message) {
        assertEquals(List.of(failure("JSON parse error, " + message)), parseAll(bytes(text)), text);
    }

    private static JsonStreamParser.Failure failure(String message) {
        return new JsonStreamParser.Failure(message);
    }

    private static Object value(JsonStreamParser.Result result) {
        return assertInstanceOf(JsonStreamParser.Value.class, result).value();
    }

    private static Object parseBytes(byte[] data) {
        return Json.parse(data);
    }

    static List<JsonStreamParser.Result> parseAll(byte[] data) {
        return parseAll(data, JsonLimits.DEFAULT);
    }

    static List<JsonStreamParser.Result> parseAll(byte[] data, JsonLimits limits) {
        JsonStreamParser parser = new JsonStreamParser(limits);
        List<JsonStreamParser.Result> results = new ArrayList<>(parser.feed(data));
        results.addAll(parser.finish());
        return results;
    }

    /** Text as UTF-8, except U+0080..U+00FF written alone stand for single raw bytes. */
    static byte[] bytes(String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String part : parts) {
            if (part.length() == 1 && part.charAt(0) >= 0x80 && part.charAt(0) <= 0xFF) {
                out.write(part.charAt(0));
            } else {
                out.writeBytes(part.getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
