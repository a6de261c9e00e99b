package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.net.ChannelSocket;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.crypto.TlsCryptoUtils;
import org.bouncycastle.tls.crypto.TlsSecret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A PSK file that cannot be read is refused saying which and why; a PSK connection survives a
 * read timeout inside a record (its reader waits with one to learn that it went idle); TLS 1.3
 * and 1.2 records both ways, and TLS 1.3's KeyUpdate from the client, answered if it asks.
 */
@Timeout(60) // a read the server never answers would wait for ever
class PskTlsTest {
    @Test
    void aMissingKeyFileIsRefusedSayingWhy(@TempDir Path dir) {
        Path file = dir.resolve("keys.psk");
        IOException e = assertThrows(IOException.class, () -> PskTls.load(file));
        assertEquals("cannot read the PSK file " + file + ": no such file or directory", e.getMessage());
    }

    /**
     * Bouncy Castle's TLS keeps a record read in part across a read timeout on the socket
     * beneath: nothing is lost when nothing came, nor when a record's second part comes after
     * the timeout (a small record, and a large write's several records split in the middle).
     */
    @ParameterizedTest
    @ValueSource(
            ints = {
                CipherSuite.TLS_AES_128_GCM_SHA256,
                CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
                CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA,
                CipherSuite.TLS_CHACHA20_POLY1305_SHA256
            })
    void aReadTimeoutInsideARecordLosesNothing(int suite, @TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {suite})) {
            Socket plain = ends.accepted.socket();
            StreamChannel channel = ends.server;
            PartedOutput wire = ends.wire;
            TlsClientProtocol tls = ends.tls;
            Socket client = ends.socket;

            plain.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, () -> channel.read(ByteBuffer.allocate(64)), "nothing sent");
            for (int length : new int[] {40, 40_000}) {
                byte[] sent = new byte[length];
                new Random(length).nextBytes(sent);
                wire.hold();
                tls.getOutputStream().write(sent);
                byte[] records = wire.take();
                assertTrue(records.length > length, "the records hold the bytes and more");
                client.getOutputStream().write(records, 0, records.length / 2);
                client.getOutputStream().flush();
                ByteBuffer got = ByteBuffer.allocate(length);
                plain.setSoTimeout(200);
                assertThrows(
                        SocketTimeoutException.class,
                        () -> {
                            while (got.hasRemaining()) {
                                channel.read(got);
                            }
                        },
                        length + " bytes whose records stop in the middle");
                client.getOutputStream().write(records, records.length / 2, records.length - records.length / 2);
                client.getOutputStream().flush();
                plain.setSoTimeout(0);
                while (got.hasRemaining()) {
                    assertTrue(channel.read(got) > 0);
                }
                assertArrayEquals(sent, got.array(), length + " bytes, read across a timeout");
            }
            channel.write(ByteBuffer.wrap(new byte[] {4, 5, 6}));
            assertArrayEquals(new byte[] {4, 5, 6}, tls.getInputStream().readNBytes(3), "and the connection goes on");
        }
    }

    /**
     * The server chooses AES-GCM where the client offers it, even after CBC (GnuTLS's order), and
     * CBC where that is all it offers; records go both ways with either.
     */
    @Test
    void aesGcmIsChosenWhereTheClientOffersItElseCbc(@TempDir Path dir) throws Exception {
        int cbc = CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA;
        int gcm = CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256;
        for (int[] offered : new int[][] {{cbc, gcm}, {cbc}}) {
            try (Ends ends = Ends.connect(dir, offered)) {
                int chosen = offered.length > 1 ? gcm : cbc;
                assertEquals(
                        chosen,
                        ends.client.suite(),
                        "suite 0x" + Integer.toHexString(chosen) + " of " + offered.length + " offered");
                assertEquals(
                        chosen == gcm
                                ? "TLSv1.2 TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"
                                : "TLSv1.2 TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
                        ends.server.session(),
                        "the session as the server names it");
                assertRecordsGoBothWays(ends, chosen == gcm ? GCM_GARBAGE : -1);
            }
        }
    }

    /**
     * TLS 1.2's suites on the key alone (no ECDHE or DHE share) only for a client that offers
     * nothing else, as OpenSSL's told {@code -cipher PSK-AES128-GCM-SHA256}; offered after
     * DHE-PSK (OpenSSL's own order puts the key alone before it), the client gets DHE-PSK.
     */
    @Test
    void theKeyAloneIsChosenOnlyWhereTheClientOffersNothingElse(@TempDir Path dir) throws Exception {
        int gcm = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        int chaCha = CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256;
        int cbc = CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA;
        int dhe = CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384;
        int[][] offers = {{gcm, dhe}, {chaCha, gcm}, {chaCha}, {cbc}};
        String[] sessions = {
            "TLSv1.2 TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
            "TLSv1.2 TLS_PSK_WITH_AES_128_GCM_SHA256",
            "TLSv1.2 TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
            "TLSv1.2 TLS_PSK_WITH_AES_128_CBC_SHA"
        };
        long[] garbage = {GCM_GARBAGE, GCM_GARBAGE, CHACHA20_GARBAGE, -1};
        for (int i = 0; i < offers.length; i++) {
            try (Ends ends = Ends.connect(dir, offers[i])) {
                assertEquals(sessions[i], ends.server.session(), "the session as the server names it");
                assertRecordsGoBothWays(ends, garbage[i]);
            }
        }
    }

    /**
     * AES-CCM ({@link CcmCipher}: the JDK has none) only for a client that offers nothing else,
     * in TLS 1.3 and with DHE-PSK or the key alone in TLS 1.2; offered before ChaCha20-Poly1305,
     * the client gets ChaCha20; offered in TLS 1.3 with TLS 1.2's AES-GCM, TLS 1.2 (AES-CCM is
     * plain Java), but not for TLS 1.2's CBC.
     */
    @Test
    void aesCcmIsChosenOnlyWhereTheClientOffersNothingElse(@TempDir Path dir) throws Exception {
        int[][] offers = {
            {CipherSuite.TLS_AES_128_CCM_SHA256},
            {CipherSuite.TLS_AES_128_CCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256},
            {CipherSuite.TLS_DHE_PSK_WITH_AES_128_CCM},
            {CipherSuite.TLS_PSK_WITH_AES_256_CCM},
            {CipherSuite.TLS_AES_128_CCM_SHA256, CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384},
            {CipherSuite.TLS_AES_128_CCM_SHA256, CipherSuite.TLS_DHE_PSK_WITH_AES_128_CBC_SHA}
        };
        String[] sessions = {
            "TLSv1.3 TLS_AES_128_CCM_SHA256 x25519",
            "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 x25519",
            "TLSv1.2 TLS_DHE_PSK_WITH_AES_128_CCM",
            "TLSv1.2 TLS_PSK_WITH_AES_256_CCM",
            "TLSv1.2 TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
            "TLSv1.3 TLS_AES_128_CCM_SHA256 x25519"
        };
        for (int i = 0; i < offers.length; i++) {
            try (Ends ends = Ends.connect(dir, offers[i])) {
                assertEquals(sessions[i], ends.server.session(), "the session as the server names it");
                assertRecordsGoBothWays(ends, -1);
            }
        }
    }

    /**
     * TLS 1.3 is agreed where the client offers it, in AES-128-GCM even after ChaCha20 (the order
     * GnuTLS's clients offer), and its records go both ways through the server's own AES-GCM.
     */
    @Test
    void tls13InAesGcmIsChosenWhereTheClientOffersIt(@TempDir Path dir) throws Exception {
        int[] offered = {
            CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA,
            CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256
        };
        try (Ends ends = Ends.connect(dir, offered)) {
            assertEquals(CipherSuite.TLS_AES_128_GCM_SHA256, ends.client.suite());
            assertEquals(
                    "TLSv1.3 TLS_AES_128_GCM_SHA256 x25519",
                    ends.server.session(),
                    "the session as the server names it, with its key share");
            assertRecordsGoBothWays(ends, GCM_GARBAGE);
        }
    }

    /**
     * A client offering no AES-GCM gets ChaCha20-Poly1305, in TLS 1.3 and in TLS 1.2 (ECDHE-PSK
     * before DHE-PSK, RFC 7905's nonce), its records through the server's own record cipher both
     * ways (Bouncy Castle's client seals and opens them with its own ChaCha20).
     */
    @Test
    void chaCha20IsChosenWhereTheClientOffersNoAesGcm(@TempDir Path dir) throws Exception {
        int[][] offers = {
            {CipherSuite.TLS_AES_128_CCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256},
            {
                CipherSuite.TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
                CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
            }
        };
        String[] sessions = {
            "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 x25519", "TLSv1.2 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"
        };
        for (int i = 0; i < offers.length; i++) {
            try (Ends ends = Ends.connect(dir, offers[i])) {
                assertEquals(sessions[i], ends.server.session(), "the session as the server names it");
                assertRecordsGoBothWays(ends, CHACHA20_GARBAGE);
            }
        }
    }

    /**
     * X25519's share is taken wherever the client sent one, even after secp256r1's (the order
     * GnuTLS's clients send them in); a client sending secp256r1's alone gets secp256r1, with no
     * HelloRetryRequest.
     */
    @ParameterizedTest
    @ValueSource(strings = {"secp256r1 x25519:x25519", "x25519 secp256r1:x25519", "secp256r1:secp256r1"})
    void x25519IsTakenWhereTheClientSentAShareOfIt(String sentAndChosen, @TempDir Path dir) throws Exception {
        String[] parts = sentAndChosen.split(":");
        int[] groups = Arrays.stream(parts[0].split(" "))
                .mapToInt(name -> name.equals("x25519") ? NamedGroup.x25519 : NamedGroup.secp256r1)
                .toArray();
        try (Ends ends = Ends.open(dir, "alice", null, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256})) {
            ends.client.sharing(groups);
            ends.handshake();
            // secp256r1 chosen where it was the only share: the server asked for no X25519 share.
            assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 " + parts[1], ends.server.session());
            assertRecordsGoBothWays(ends, GCM_GARBAGE);
        }
    }

    /**
     * What sending 400 KB may allocate with the server's own record cipher: in AES-GCM an eighth
     * (before it, Bouncy Castle's record layer made a new array of every record, all of it); in
     * ChaCha20-Poly1305 a quarter (the JDK's cipher makes its state anew at each record's nonce,
     * about 2.6 KB a 16 KiB record).
     */
    private static final long GCM_GARBAGE = 50_000;

    private static final long CHACHA20_GARBAGE = 100_000;

    /**
     * 100 KB from the client and back, then 400 KB each way at once; where the server seals in its
     * own record cipher, sending allocates less than {@code garbage} bytes (-1: not checked, CBC).
     */
    private static void assertRecordsGoBothWays(Ends ends, long garbage) throws Exception {
        byte[] large = new byte[100_000];
        new Random(5).nextBytes(large);
        ends.tls.getOutputStream().write(large);
        ByteBuffer got = ByteBuffer.allocate(large.length);
        while (got.hasRemaining()) {
            assertTrue(ends.server.read(got) > 0);
        }
        assertArrayEquals(large, got.array());
        // One write back first: what a connection's first record allocates once is not measured.
        ends.server.write(ByteBuffer.wrap(large));
        assertArrayEquals(large, ends.tls.getInputStream().readNBytes(large.length), "the first write back");
        // The server sends on this thread (what it allocates is measured) while it
        // receives on another: its reader decrypts as its writer encrypts.
        try (ExecutorService others = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<byte[]> clientRead =
                    others.submit(() -> ends.tls.getInputStream().readNBytes(4 * large.length));
            Future<byte[]> serverRead = others.submit(() -> {
                ByteBuffer in = ByteBuffer.allocate(4 * large.length);
                while (in.hasRemaining()) {
                    assertTrue(ends.server.read(in) > 0);
                }
                return in.array();
            });
            Future<?> clientWrite = others.submit(() -> {
                for (int i = 0; i < 4; i++) {
                    ends.tls.getOutputStream().write(large);
                }
                return null;
            });
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 4; i++) {
                ends.server.write(ByteBuffer.wrap(large));
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            clientWrite.get(10, TimeUnit.SECONDS);
            assertFourTimes(large, clientRead.get(10, TimeUnit.SECONDS), "the client received");
            assertFourTimes(large, serverRead.get(10, TimeUnit.SECONDS), "the server received");
            if (garbage >= 0) {
                assertTrue(allocated < garbage, allocated + " bytes allocated to send 400 KB");
            }
        }
    }

    private static void assertFourTimes(byte[] expected, byte[] got, String what) {
        assertEquals(4 * expected.length, got.length, what);
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(expected, Arrays.copyOfRange(got, i * expected.length, (i + 1) * expected.length), what);
        }
    }

    /**
     * Small records a client sent back to back are read in a few calls, and its close_notify is
     * the end of the stream.
     */
    @ParameterizedTest
    @ValueSource(ints = {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256})
    void aBurstOfRecordsIsReadInAFewCallsAndCloseNotifyEndsTheStream(int suite, @TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {suite})) {
            byte[] sent = new byte[50 * 40];
            new Random(3).nextBytes(sent);
            ends.wire.hold();
            for (int r = 0; r < 50; r++) {
                ends.tls.getOutputStream().write(sent, r * 40, 40); // a record each
            }
            ends.socket.getOutputStream().write(ends.wire.take());
            ends.tls.close(); // close_notify after them
            ByteBuffer got = ByteBuffer.allocate(sent.length + 1);
            int calls = 0;
            int n;
            while ((n = ends.server.read(got)) >= 0) {
                assertTrue(n > 0 || !got.hasRemaining());
                calls++;
            }
            assertEquals(sent.length, got.position(), "every byte, then the end");
            assertArrayEquals(sent, Arrays.copyOf(got.array(), sent.length));
            assertTrue(calls <= 10, "50 records took " + calls + " reads");
        }
    }

    /** A record longer than TLS allows is refused from its header, before the server reads it. */
    @ParameterizedTest
    @ValueSource(ints = {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256})
    void aRecordLongerThanTlsAllowsIsRefused(int suite, @TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {suite})) {
            ends.socket.getOutputStream().write(new byte[] {23, 3, 3, (byte) 0xff, (byte) 0xff, 0});
            org.bouncycastle.tls.TlsFatalAlert alert = assertThrows(
                    org.bouncycastle.tls.TlsFatalAlert.class, () -> ends.server.read(ByteBuffer.allocate(16)));
            assertEquals(org.bouncycastle.tls.AlertDescription.record_overflow, alert.getAlertDescription());
        }
    }

    /**
     * Records of random type, length and bytes (seeded), whole or longer than TLS allows, after a
     * real one: each connection ends with a TLS alert, never another exception, and the real
     * record's bytes are read first.
     */
    @ParameterizedTest
    @ValueSource(ints = {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256})
    void randomRecordsEndTheConnectionWithAnAlert(int suite, @TempDir Path dir) throws Exception {
        Random random = new Random(suite);
        java.util.Set<Short> alerts = new java.util.TreeSet<>();
        for (int trial = 0; trial < 12; trial++) {
            try (Ends ends = Ends.connect(dir, new int[] {suite})) {
                ends.tls.getOutputStream().write(new byte[] {7, 8, 9});
                int type = trial % 3 == 0 ? random.nextInt(256) : 20 + random.nextInt(5);
                int length =
                        trial % 4 == 0 ? (1 << 14) + 300 + random.nextInt(40_000) : random.nextInt((1 << 14) + 257);
                byte[] record = new byte[5 + length];
                random.nextBytes(record);
                record[0] = (byte) type;
                record[1] = 3;
                record[2] = 3;
                record[3] = (byte) (length >>> 8);
                record[4] = (byte) length;
                ends.socket.getOutputStream().write(record, 0, length > (1 << 15) ? 5 : record.length);
                ByteBuffer got = ByteBuffer.allocate(3);
                while (got.hasRemaining()) {
                    assertTrue(ends.server.read(got) > 0);
                }
                assertArrayEquals(new byte[] {7, 8, 9}, got.array(), "the real record first");
                org.bouncycastle.tls.TlsFatalAlert alert = assertThrows(
                        org.bouncycastle.tls.TlsFatalAlert.class,
                        () -> ends.server.read(ByteBuffer.allocate(64)),
                        "type " + type + ", " + length + " bytes");
                alerts.add(alert.getAlertDescription());
            }
        }
        assertTrue(alerts.size() >= 2, "alerts " + alerts);
    }

    /**
     * A record changed on the way fails its tag (AES-GCM's or ChaCha20-Poly1305's, TLS 1.3 and
     * 1.2): the server reads no byte of it and ends the session.
     */
    @ParameterizedTest
    @ValueSource(
            ints = {
                CipherSuite.TLS_AES_128_GCM_SHA256,
                CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
                CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
                CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
            })
    void aTamperedRecordIsRefused(int suite, @TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {suite})) {
            ends.wire.hold();
            ends.tls.getOutputStream().write(new byte[] {1, 2, 3, 4});
            byte[] record = ends.wire.take();
            record[record.length - 20] ^= 1; // in the ciphertext, before the tag
            ends.socket.getOutputStream().write(record);
            ByteBuffer got = ByteBuffer.allocate(16);
            org.bouncycastle.tls.TlsFatalAlert alert =
                    assertThrows(org.bouncycastle.tls.TlsFatalAlert.class, () -> ends.server.read(got));
            assertEquals(org.bouncycastle.tls.AlertDescription.bad_record_mac, alert.getAlertDescription());
            assertEquals(0, got.position(), "nothing of the record read");
        }
    }

    /**
     * TLS 1.3: a client's KeyUpdate that asks for none back moves the server to the client's next
     * key, from sequence number 0; a record under the old key after it fails its tag. The records
     * are sealed here, by the JDK's AES-GCM.
     */
    @Test
    void aKeyUpdateFromTheClientMovesTheServerToItsNextKey(@TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256})) {
            ends.tls.getOutputStream().write(new byte[] {1, 2, 3}); // the first key's record 0
            Tls13TrafficKeys first = ends.client.sendKeys();
            OutputStream raw = ends.socket.getOutputStream();
            raw.write(seal(first, 1, HANDSHAKE, keyUpdate(false)));
            Tls13TrafficKeys next = next(first);
            raw.write(seal(next, 0, APPLICATION_DATA, new byte[] {4, 5}));
            raw.write(seal(next, 1, APPLICATION_DATA, new byte[] {6}));
            ByteBuffer got = ByteBuffer.allocate(6);
            while (got.hasRemaining()) {
                assertTrue(ends.server.read(got) > 0);
            }
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, got.array(), "before, then after the key update");
            ends.server.write(ByteBuffer.wrap(new byte[] {8}));
            InputStream in = ends.socket.getInputStream();
            Tls13TrafficKeys server = ends.client.receiveKeys();
            assertArrayEquals(new byte[] {8, APPLICATION_DATA}, open(server, 0, in), "no KeyUpdate asked, none sent");
            raw.write(seal(first, 2, APPLICATION_DATA, new byte[] {7}));
            org.bouncycastle.tls.TlsFatalAlert alert = assertThrows(
                    org.bouncycastle.tls.TlsFatalAlert.class, () -> ends.server.read(ByteBuffer.allocate(4)));
            assertEquals(org.bouncycastle.tls.AlertDescription.bad_record_mac, alert.getAlertDescription());
        }
    }

    /**
     * A KeyUpdate asking for one back (RFC 8446, 4.6.3) is answered before the server's next
     * application data: a KeyUpdate asking for none, under the server's key then, and the reply
     * and the ones after it under its next key, from sequence number 0. Opened here with the
     * JDK's AES-GCM, record by record.
     */
    @Test
    void aKeyUpdateAskingForOneBackIsAnsweredBeforeTheNextReply(@TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256})) {
            Tls13TrafficKeys client = ends.client.sendKeys();
            Tls13TrafficKeys server = ends.client.receiveKeys();
            InputStream in = ends.socket.getInputStream();
            ends.server.write(ByteBuffer.wrap(new byte[] {1}));
            assertArrayEquals(new byte[] {1, APPLICATION_DATA}, open(server, 0, in), "before the key update");
            OutputStream raw = ends.socket.getOutputStream();
            raw.write(seal(client, 0, HANDSHAKE, keyUpdate(true)));
            raw.write(seal(next(client), 0, APPLICATION_DATA, new byte[] {4, 5}));
            ByteBuffer got = ByteBuffer.allocate(2);
            while (got.hasRemaining()) {
                assertTrue(ends.server.read(got) > 0);
            }
            assertArrayEquals(new byte[] {4, 5}, got.array(), "under the client's next key");
            ends.server.write(ByteBuffer.wrap(new byte[] {8, 9}));
            ends.server.write(ByteBuffer.wrap(new byte[] {10}));
            byte[] answer = {24, 0, 0, 1, 0, HANDSHAKE};
            assertArrayEquals(answer, open(server, 1, in), "a KeyUpdate asking for none back, under the old key");
            Tls13TrafficKeys serverNext = next(server);
            assertArrayEquals(new byte[] {8, 9, APPLICATION_DATA}, open(serverNext, 0, in), "the reply, next key");
            assertArrayEquals(new byte[] {10, APPLICATION_DATA}, open(serverNext, 1, in), "one KeyUpdate only");
        }
    }

    /** A KeyUpdate whose request is neither 0 nor 1 is refused (RFC 8446, 4.6.3: illegal_parameter). */
    @Test
    void aKeyUpdateWithAnUnknownRequestIsRefused(@TempDir Path dir) throws Exception {
        try (Ends ends = Ends.connect(dir, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256})) {
            byte[] unknown = keyUpdate(false);
            unknown[4] = 2;
            ends.socket.getOutputStream().write(seal(ends.client.sendKeys(), 0, HANDSHAKE, unknown));
            org.bouncycastle.tls.TlsFatalAlert alert = assertThrows(
                    org.bouncycastle.tls.TlsFatalAlert.class, () -> ends.server.read(ByteBuffer.allocate(4)));
            assertEquals(org.bouncycastle.tls.AlertDescription.illegal_parameter, alert.getAlertDescription());
        }
    }

    /**
     * A TLS 1.3 client whose identity the file lacks, or whose key for it differs, is refused with
     * TLS 1.2's alerts and a reason naming the identity, not Bouncy Castle's internal_error.
     */
    @Test
    void aTls13ClientWithoutTheKeyIsRefusedSayingWhy(@TempDir Path dir) throws Exception {
        byte[] other = new byte[32];
        new Random(8).nextBytes(other);
        assertEquals(
                "PSK handshake failed: unknown_psk_identity(115); no key for the client's identity 'bob\\x01'",
                refusal(dir, "bob\u0001", other));
        assertEquals(
                "PSK handshake failed: decrypt_error(51); the client's key for 'alice' is not the key file's",
                refusal(dir, "alice", other));
        assertEquals(
                "PSK handshake failed: unknown_psk_identity(115); no key for the client's identity 'a', 'b', 'c', 'd'"
                        + " and 3 more",
                refusal(dir, "a", other, "b", "c", "d", "e", "f", "g"));
        try (Ends ends = Ends.open(dir, "alice", null, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256})) {
            ends.client.withoutKeys();
            assertEquals(
                    "PSK handshake failed: unknown_psk_identity(115); the client offered no pre-shared key",
                    refusal(ends));
        }
    }

    /** The server's reason for refusing a TLS 1.3 client of {@code identity} (then {@code more}) and {@code key}. */
    private static String refusal(Path dir, String identity, byte[] key, String... more) throws Exception {
        try (Ends ends = Ends.open(dir, identity, key, new int[] {CipherSuite.TLS_AES_128_GCM_SHA256})) {
            ends.client.offering(more);
            return refusal(ends);
        }
    }

    /** The server's reason for refusing the client of {@code ends}. */
    private static String refusal(Ends ends) throws Exception {
        try (ExecutorService handshakes = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<StreamChannel> server =
                    handshakes.submit(() -> ends.psk.handshake(ChannelSocket.of(ends.accepted), new byte[0], 10_000));
            assertThrows(IOException.class, () -> ends.tls.connect(ends.client), "the client is refused");
            java.util.concurrent.ExecutionException failed =
                    assertThrows(java.util.concurrent.ExecutionException.class, () -> server.get(10, TimeUnit.SECONDS));
            return failed.getCause().getMessage();
        }
    }

    private static final int HANDSHAKE = 22;
    private static final int APPLICATION_DATA = 23;

    /** RFC 8446, 4.6.3: key_update, a body of one byte, update_requested or update_not_requested. */
    private static byte[] keyUpdate(boolean requested) {
        return new byte[] {24, 0, 0, 1, (byte) (requested ? 1 : 0)};
    }

    /** The keys after a KeyUpdate (RFC 8446, 7.2), derived here rather than by the server. */
    private static Tls13TrafficKeys next(Tls13TrafficKeys keys) throws IOException {
        int length = TlsCryptoUtils.getHashOutputSize(keys.hash());
        TlsSecret next = TlsCryptoUtils.hkdfExpandLabel(keys.secret(), keys.hash(), "traffic upd", new byte[0], length);
        return Tls13TrafficKeys.derive(next, keys.hash(), keys.keySize(), "AES");
    }

    /** Reads one TLS 1.3 record sealed with {@code keys} and opens it: its content and inner type. */
    private static byte[] open(Tls13TrafficKeys keys, long sequence, InputStream in) throws Exception {
        byte[] header = in.readNBytes(5);
        assertEquals(APPLICATION_DATA, header[0], "TLS 1.3's outer type");
        byte[] body = in.readNBytes(((header[3] & 0xff) << 8) | (header[4] & 0xff));
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(Cipher.DECRYPT_MODE, keys.key(), new GCMParameterSpec(128, nonce(keys, sequence)));
        gcm.updateAAD(header);
        return gcm.doFinal(body);
    }

    private static byte[] nonce(Tls13TrafficKeys keys, long sequence) {
        byte[] nonce = keys.iv().clone();
        for (int i = 0; i < 8; i++) {
            nonce[nonce.length - 1 - i] ^= (byte) (sequence >>> (8 * i));
        }
        return nonce;
    }

    /** A TLS 1.3 record (RFC 8446, 5.2) of {@code type} holding {@code content}, sealed with {@code keys}. */
    private static byte[] seal(Tls13TrafficKeys keys, long sequence, int type, byte[] content) throws Exception {
        byte[] inner = Arrays.copyOf(content, content.length + 1);
        inner[content.length] = (byte) type;
        int length = inner.length + 16;
        byte[] header = {APPLICATION_DATA, 3, 3, (byte) (length >>> 8), (byte) length};
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(Cipher.ENCRYPT_MODE, keys.key(), new GCMParameterSpec(128, nonce(keys, sequence)));
        gcm.updateAAD(header);
        byte[] body = gcm.doFinal(inner);
        byte[] record = Arrays.copyOf(header, header.length + body.length);
        System.arraycopy(body, 0, record, header.length, body.length);
        return record;
    }

    /** A PSK client (Bouncy Castle's) and the server's end after {@link PskTls#handshake}, over loopback. */
    private static final class Ends implements AutoCloseable {
        private final ServerSocketChannel listener;
        private final Socket socket;
        private final SocketChannel accepted;
        private final PartedOutput wire;
        private final TlsClientProtocol tls;
        private final PskClient client;
        private final PskTls psk;
        private StreamChannel server;

        private Ends(ServerSocketChannel listener, Socket socket, SocketChannel accepted, PskTls psk, PskClient client)
                throws IOException {
            this.listener = listener;
            this.socket = socket;
            this.accepted = accepted;
            this.psk = psk;
            this.wire = new PartedOutput(socket.getOutputStream());
            this.tls = new TlsClientProtocol(socket.getInputStream(), wire);
            this.client = client;
        }

        /** Connects with {@code suites} offered in that order (null: the client's defaults). */
        static Ends connect(Path dir, int[] suites) throws Exception {
            return open(dir, "alice", null, suites).handshake();
        }

        /** Both ends' handshake; closes them if it fails. */
        Ends handshake() throws Exception {
            try (ExecutorService handshakes = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<StreamChannel> serverEnd =
                        handshakes.submit(() -> psk.handshake(ChannelSocket.of(accepted), new byte[0], 10_000));
                tls.connect(client);
                server = serverEnd.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                close();
                throw e;
            }
            return this;
        }

        /**
         * Both ends connected but not shaken hands: the server's file has alice's key, the client
         * {@code identity} with {@code clientKey} (null: alice's).
         */
        static Ends open(Path dir, String identity, byte[] clientKey, int[] suites) throws IOException {
            byte[] key = new byte[32];
            new Random(7).nextBytes(key);
            Path file = dir.resolve("keys.psk");
            Files.writeString(file, "alice:" + HexFormat.of().formatHex(key) + "\n");
            InetAddress loopback = InetAddress.getLoopbackAddress();
            ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(loopback, 0));
            Socket socket = new Socket(loopback, listener.socket().getLocalPort());
            PskClient client = new PskClient(identity, clientKey != null ? clientKey : key, suites);
            return new Ends(listener, socket, listener.accept(), PskTls.load(file), client);
        }

        @Override
        public void close() throws IOException {
            try (listener;
                    socket;
                    accepted) {
                // closed in turn
            }
        }
    }

    /** The client's output to its socket; between {@link #hold} and {@link #take} it keeps what is written. */
    private static final class PartedOutput extends OutputStream {
        private final OutputStream socket;
        private ByteArrayOutputStream held;

        PartedOutput(OutputStream socket) {
            this.socket = socket;
        }

        void hold() {
            held = new ByteArrayOutputStream();
        }

        byte[] take() {
            byte[] bytes = held.toByteArray();
            held = null;
            return bytes;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (held != null) {
                held.write(b, off, len);
            } else {
                socket.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            if (held == null) {
                socket.flush();
            }
        }
    }
}
