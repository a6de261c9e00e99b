package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.wire.net.TlsMode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * NBD negotiation under arbitrary options: every option gets well-formed replies naming it (or
 * the outcome that closes), in every TLS mode. Plain test runs replay the committed corpus
 * ({@code NegotiationFuzzTestInputs/}); {@code .ci/fuzz} explores for a bounded time.
 */
class NegotiationFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void options(FuzzedDataProvider data) {
        ExportRegistry exports = new ExportRegistry();
        exports.add(new Export("disk", new MemoryDevice(1 << 20), false));
        exports.add(new Export("ro", new MemoryDevice(4096), true));
        TlsMode mode = data.pickValue(TlsMode.values());
        Negotiation n = new Negotiation(exports, data.consumeInt(0, 3), () -> false, mode);
        while (data.remainingBytes() > 0) {
            int option = data.consumeBoolean() ? data.consumeInt(0, 12) : data.consumeInt();
            ByteBuffer payload = ByteBuffer.wrap(data.consumeBytes(data.consumeInt(0, 300)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Negotiation.Outcome outcome = n.handle(option, payload, out);
            ByteBuffer replies = ByteBuffer.wrap(out.toByteArray());
            if (option != NbdProtocol.OPT_EXPORT_NAME) {
                while (replies.hasRemaining()) {
                    assertEquals(NbdProtocol.OPTION_REPLY_MAGIC, replies.getLong(), "reply magic");
                    assertEquals(option, replies.getInt(), "reply names its option");
                    replies.getInt();
                    int length = replies.getInt();
                    assertTrue(length >= 0 && length <= replies.remaining(), "reply length");
                    replies.position(replies.position() + length);
                }
            }
            if (outcome == Negotiation.Outcome.START_TLS) {
                n.tlsStarted();
            }
            if (outcome == Negotiation.Outcome.CLOSE || outcome == Negotiation.Outcome.TRANSMIT) {
                return;
            }
        }
    }
}
