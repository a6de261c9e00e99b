package dev.faultdisk.wire.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The QMP JSON codec under arbitrary bytes: the stream parser, fed in arbitrary fragments with
 * small limits, never throws and never grows past its limits, and every value it accepts writes
 * out and parses back to itself; the member lines of any text come back without an exception. Plain test runs replay the committed corpus
 * ({@code JsonFuzzTestInputs/}); {@code .ci/fuzz} explores for a bounded time.
 */
class JsonFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void parse(FuzzedDataProvider data) {
        JsonLimits limits = new JsonLimits(data.consumeInt(16, 4096), data.consumeInt(1, 512), data.consumeInt(1, 64));
        JsonStreamParser parser = new JsonStreamParser(limits);
        byte[] input = data.consumeRemainingAsBytes();
        Json.memberLines(new String(input, StandardCharsets.UTF_8)); // never throws, whatever the text
        int at = 0;
        int step = 1 + (input.length % 7);
        while (at < input.length) {
            int n = Math.min(step, input.length - at);
            check(parser.feed(input, at, n));
            at += n;
            step = step * 3 % 17 + 1;
        }
        check(parser.finish());
    }

    private static void check(List<JsonStreamParser.Result> results) {
        for (JsonStreamParser.Result r : results) {
            if (r instanceof JsonStreamParser.Value v) {
                String text = Json.write(v.value());
                assertEquals(text, Json.write(Json.parse(text)), "write/parse round trip");
                assertTrue(Json.memberLines(text).values().stream().allMatch(line -> line == 1), text);
            } else {
                String message = ((JsonStreamParser.Failure) r).message();
                assertTrue(message.startsWith("JSON"), message);
            }
        }
    }
}
