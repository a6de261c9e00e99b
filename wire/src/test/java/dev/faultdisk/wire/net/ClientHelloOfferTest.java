package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a ClientHello offers: the JDK's own client's suites and shares (one a kind of group),
 * one built here with two shares in GnuTLS's order, and nothing, never an exception, from a
 * record cut short, bytes changed at random (seeded), or another record.
 */
class ClientHelloOfferTest {
    @Test
    void theJdkClientsSharesFollowItsNamedGroups(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        assertArrayEquals(new int[] {0x001d, 0x0017}, groupsOf(clientHello(ctx, "x25519", "secp256r1")));
        assertArrayEquals(new int[] {0x0017, 0x001d}, groupsOf(clientHello(ctx, "secp256r1", "x25519")));
        assertArrayEquals(new int[] {0x0017}, groupsOf(clientHello(ctx, "secp256r1")));
        byte[] record = clientHello(ctx, "x25519");
        ClientHelloOffer offer = ClientHelloOffer.read(record, 0, record.length);
        assertTrue(offer.offersAnyOf(0x1301) && offer.offersAnyOf(0x1302), offer.toString());
        assertTrue(offer.offersAnyOf(0xc02b), "TLS 1.2's ECDHE-ECDSA-AES128-GCM too: " + offer);
        assertTrue(offer.offersTls13() && Arrays.stream(offer.versions()).anyMatch(v -> v == 0x0303), offer.toString());
    }

    @Test
    void twoSharesInTheirOrder() {
        byte[] record = record(twoShares());
        ClientHelloOffer offer = ClientHelloOffer.read(record, 0, record.length);
        assertEquals(new ClientHelloOffer(new int[] {0x0304}, new int[] {0x1301}, new int[] {0x0017, 0x001d}), offer);
        assertTrue(offer.offersTls13());
        assertTrue(offer.shares(ClientHelloOffer.X25519));
    }

    @Test
    void aRecordCutShortOrChangedGivesNoGroupsAndNeverThrows() {
        byte[] hello = twoShares();
        for (int n = 0; n < hello.length; n++) {
            byte[] cut = record(Arrays.copyOf(hello, n));
            assertEquals(0, groupsOf(cut).length, "the ClientHello cut to " + n + " bytes");
        }
        SplittableRandom random = new SplittableRandom(0x5ead);
        byte[] whole = record(hello);
        for (int i = 0; i < 2_000; i++) {
            byte[] changed = whole.clone();
            for (int k = 0; k < 3; k++) {
                changed[TlsRecordHeader.SIZE + random.nextInt(hello.length)] = (byte) random.nextInt(256);
            }
            ClientHelloOffer offer = ClientHelloOffer.read(changed, 0, changed.length); // whatever it finds
            assertTrue(offer.shares().length <= hello.length / 4, offer.toString());
        }
        byte[] alert = whole.clone();
        alert[0] = 21;
        assertEquals(0, groupsOf(alert).length, "not a handshake record");
        assertEquals(ClientHelloOffer.NOTHING, ClientHelloOffer.read(whole, 0, whole.length - 1), "not all here");
    }

    private static int[] groupsOf(byte[] record) {
        return ClientHelloOffer.read(record, 0, record.length).shares();
    }

    /** The JDK's client's first record, offering {@code groups}. */
    private static byte[] clientHello(SSLContext ctx, String... groups) throws Exception {
        SSLEngine client = ctx.createSSLEngine("localhost", 10809);
        client.setUseClientMode(true);
        SSLParameters params = client.getSSLParameters();
        params.setNamedGroups(groups);
        client.setSSLParameters(params);
        ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] record = new byte[out.remaining()];
        out.get(record);
        return record;
    }

    /** A ClientHello (RFC 8446, 4.1.2) with shares of secp256r1 (65 bytes) and X25519 (32 bytes). */
    private static byte[] twoShares() {
        ByteArrayOutputStream shares = new ByteArrayOutputStream();
        put16(shares, 0x0017);
        put16(shares, 65);
        shares.writeBytes(new byte[65]);
        put16(shares, 0x001d);
        put16(shares, 32);
        shares.writeBytes(new byte[32]);
        ByteArrayOutputStream extensions = new ByteArrayOutputStream();
        put16(extensions, 43); // supported_versions: TLS 1.3
        put16(extensions, 3);
        extensions.writeBytes(new byte[] {2, 3, 4});
        put16(extensions, 51); // key_share
        put16(extensions, shares.size() + 2);
        put16(extensions, shares.size());
        extensions.writeBytes(shares.toByteArray());
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {3, 3});
        body.writeBytes(new byte[32]); // random
        body.write(0); // no session id
        put16(body, 2);
        put16(body, 0x1301); // TLS_AES_128_GCM_SHA256
        body.writeBytes(new byte[] {1, 0}); // null compression
        put16(body, extensions.size());
        body.writeBytes(extensions.toByteArray());
        ByteArrayOutputStream hello = new ByteArrayOutputStream();
        hello.write(1); // client_hello
        hello.write(0);
        put16(hello, body.size());
        hello.writeBytes(body.toByteArray());
        return hello.toByteArray();
    }

    private static byte[] record(byte[] handshake) {
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(new byte[] {22, 3, 1});
        put16(record, handshake.length);
        record.writeBytes(handshake);
        return record.toByteArray();
    }

    private static void put16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v);
    }
}
