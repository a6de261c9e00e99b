package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * The extended request decoder under arbitrary bytes: it decodes whole 32-byte headers (any
 * 64-bit length), waits for more input, or refuses with a protocol error, nothing else. A class of
 * its own: Jazzer fuzzes one target per JVM. Plain test runs replay the committed corpus.
 */
class ExtendedRequestDecoderFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void decodeExtended(byte[] input) {
        ByteBuffer in = ByteBuffer.wrap(input);
        RequestHeader h = new RequestHeader();
        int decoded = 0;
        try {
            while (RequestDecoder.decodeExtended(in, h)) {
                decoded++;
            }
            assertTrue(in.remaining() < RequestDecoder.EXTENDED_HEADER_SIZE, "stops only for want of input");
        } catch (ProtocolException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
        }
        assertEquals(decoded * RequestDecoder.EXTENDED_HEADER_SIZE, in.position(), "whole headers only");
    }
}
