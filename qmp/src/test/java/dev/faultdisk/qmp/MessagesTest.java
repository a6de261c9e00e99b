package dev.faultdisk.qmp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.faultdisk.wire.json.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A line on the wire is the JSON text and CRLF, byte for byte what the US-ASCII charset makes of it. */
class MessagesTest {

    @Test
    void aLineIsItsTextInAsciiThenCrlf() {
        StringBuilder event = new StringBuilder();
        Json.write(event, Messages.event("X", Map.of("name", "caf\u00e9 \u2603"), Instant.ofEpochSecond(5, 7000)));
        assertArrayEquals(
                (event + "\r\n").getBytes(StandardCharsets.US_ASCII),
                Messages.line(event),
                "escaped by the writer: " + event);
        String beyondAscii = "{\"a\": \"\u00e9\"}";
        assertArrayEquals((beyondAscii + "\r\n").getBytes(StandardCharsets.US_ASCII), Messages.line(beyondAscii));
    }
}
