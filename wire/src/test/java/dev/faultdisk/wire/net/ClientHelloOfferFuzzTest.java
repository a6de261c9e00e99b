package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The ClientHello reader under arbitrary bytes, which any client sends before TLS is agreed:
 * it never throws and offers no more than its record could hold. The fuzzer's bytes are put in
 * a handshake record of their length (or taken as they are), so it reaches the ClientHello's
 * fields rather than stopping at the record's header. Plain test runs replay the committed
 * corpus; {@code .ci/fuzz} explores for a bounded time.
 */
class ClientHelloOfferFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void read(FuzzedDataProvider data) {
        boolean wrapped = data.consumeBoolean();
        int cut = data.consumeInt(0, 8);
        byte[] body = data.consumeRemainingAsBytes();
        byte[] record;
        if (wrapped) {
            record = new byte[TlsRecordHeader.SIZE + body.length];
            record[0] = 22;
            record[1] = 3;
            record[2] = 1;
            record[3] = (byte) (body.length >>> 8);
            record[4] = (byte) body.length;
            System.arraycopy(body, 0, record, TlsRecordHeader.SIZE, body.length);
        } else {
            record = body;
        }
        int end = Math.max(0, record.length - cut);
        ClientHelloOffer offer = ClientHelloOffer.read(record, 0, end);
        assertTrue(offer.shares().length <= end / 4, offer.toString());
        assertTrue(offer.suites().length <= end / 2, offer.toString());
        assertTrue(offer.versions().length <= end / 2, offer.toString());
        offer.offersTls13();
        offer.shares(ClientHelloOffer.X25519);
    }
}
