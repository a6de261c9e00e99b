package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * The request decoder under arbitrary bytes: it decodes a header, waits for more input, or
 * refuses with a protocol error, nothing else. Plain test runs replay the committed corpus.
 */
class RequestDecoderFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void decode(byte[] input) {
        ByteBuffer in = ByteBuffer.wrap(input);
        RequestHeader h = new RequestHeader();
        try {
            while (RequestDecoder.decode(in, h)) {
                assertTrue(h.length >= 0 && h.length <= 0xFFFF_FFFFL, "length is an unsigned 32-bit value");
            }
            assertTrue(in.remaining() < RequestDecoder.HEADER_SIZE, "stops only for want of input");
        } catch (ProtocolException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
        }
    }
}
