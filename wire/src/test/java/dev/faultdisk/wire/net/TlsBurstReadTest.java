package dev.faultdisk.wire.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK's TLS on both ends, over loopback: small records a client sent back to back are read by
 * the server in a few calls (not one a record), intact, and the server's own writes arrive whole.
 */
class TlsBurstReadTest {
    private static final int RECORDS = 50;
    private static final int RECORD_BYTES = 40;

    @Test
    void aBurstOfSmallRecordsIsReadInAFewCalls(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket plainClient = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                Socket accepted = listener.accept()) {
            Ends ends = handshake(ctx, dir, listener, plainClient, accepted, true);
            SSLSocket client = ends.client();
            StreamChannel channel = ends.server();
            assertEquals(
                    client.getSession().getProtocol() + " "
                            + client.getSession().getCipherSuite() + " x25519",
                    channel.session(),
                    "the session as both ends name it, and the JDK client's X25519 share taken");
            assertTrue(channel.session().startsWith("TLSv1.3 TLS_"), channel.session());

            byte[] sent = new byte[RECORDS * RECORD_BYTES];
            for (int i = 0; i < sent.length; i++) {
                sent[i] = (byte) (i * 31 + 7);
            }
            OutputStream out = client.getOutputStream();
            for (int r = 0; r < RECORDS; r++) {
                out.write(sent, r * RECORD_BYTES, RECORD_BYTES); // one record each
            }
            out.flush();
            // Every record is on the server's socket (more than their plaintext has arrived, and
            // no more arrives) before the server reads.
            int[] last = {-1};
            await().atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        int now = accepted.getInputStream().available();
                        boolean settled = now >= sent.length && now == last[0];
                        last[0] = now;
                        return settled;
                    });

            ByteBuffer got = ByteBuffer.allocateDirect(sent.length);
            int calls = 0;
            while (got.hasRemaining()) {
                assertTrue(channel.read(got) > 0);
                calls++;
            }
            byte[] received = new byte[sent.length];
            got.flip().get(received);
            assertArrayEquals(sent, received);
            assertTrue(calls <= 5, RECORDS + " records already here took " + calls + " reads");

            // And the other way: a reply's header and payload, and a large payload, arrive whole.
            byte[] large = new byte[300_000];
            new java.util.Random(3).nextBytes(large);
            channel.write(new ByteBuffer[] {
                ByteBuffer.wrap(new byte[] {9, 8, 7}),
                ByteBuffer.allocateDirect(large.length).put(large).flip()
            });
            byte[] reply = client.getInputStream().readNBytes(3 + large.length);
            assertEquals(9, reply[0]);
            assertArrayEquals(large, java.util.Arrays.copyOfRange(reply, 3, reply.length));
            client.close();
            assertEquals(-1, channel.read(ByteBuffer.allocate(16)), "the client's close is the end of the stream");
        }
    }

    /**
     * A client that goes away without TLS's close_notify (as fio's nbd engine does with its first
     * connection) is the end of the stream to the server, not a TLS failure.
     */
    @Test
    void aClientClosingWithoutCloseNotifyIsTheEndOfTheStream(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket plainClient = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                Socket accepted = listener.accept()) {
            Ends ends = handshake(ctx, dir, listener, plainClient, accepted, false);
            SSLSocket client = ends.client();
            StreamChannel channel = ends.server();
            client.getOutputStream().write(new byte[] {1, 2, 3});
            client.getOutputStream().flush();
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(3, channel.read(got));
            plainClient.close(); // the TCP connection ends; no close_notify was sent
            assertEquals(-1, channel.read(got.clear()));
        }
    }

    /**
     * A read timeout on the socket beneath (the server's reader waits for a request with one, to
     * learn that its connection went idle) loses nothing: not when nothing came, and not inside
     * a record whose second part comes after the timeout, small (through the burst buffer) or
     * large (its body read straight into the TLS layer's array).
     */
    @Test
    void aReadTimeoutInsideARecordLosesNothing(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket listener = new ServerSocket(0, 1, loopback);
                ServerSocket relayListener = new ServerSocket(0, 1, loopback);
                Socket plainClient = new Socket(loopback, relayListener.getLocalPort());
                Socket relayIn = relayListener.accept();
                Socket relayOut = new Socket(loopback, listener.getLocalPort());
                Socket accepted = listener.accept()) {
            SplitRelay toServer = SplitRelay.start(relayIn, relayOut);
            SplitRelay.start(relayOut, relayIn);
            Ends ends = handshake(ctx, dir, listener, plainClient, accepted, true);
            OutputStream out = ends.client().getOutputStream();
            StreamChannel channel = ends.server();

            accepted.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, () -> channel.read(ByteBuffer.allocate(64)), "nothing sent");
            for (int length : new int[] {RECORD_BYTES, 40_000}) {
                byte[] sent = new byte[length];
                new java.util.Random(length).nextBytes(sent);
                int splits = toServer.splits();
                toServer.splitNext(Duration.ofSeconds(1));
                out.write(sent);
                out.flush();
                accepted.setSoTimeout(200);
                ByteBuffer got = ByteBuffer.allocate(length);
                assertThrows(
                        SocketTimeoutException.class,
                        () -> {
                            while (got.hasRemaining()) {
                                channel.read(got);
                            }
                        },
                        "a record of " + length + " bytes arriving in two parts, 1 s apart");
                await().atMost(Duration.ofSeconds(10)).until(() -> toServer.splits() > splits);
                accepted.setSoTimeout(0);
                while (got.hasRemaining()) {
                    assertTrue(channel.read(got) > 0);
                }
                assertArrayEquals(sent, got.array(), length + " bytes, read across a timeout");
            }
        }
    }

    /**
     * Forwards one socket's input to another; armed with {@link #splitNext}, it forwards the
     * next chunk it reads in two parts with a pause between.
     */
    private static final class SplitRelay {
        private final java.util.concurrent.atomic.AtomicReference<Duration> split =
                new java.util.concurrent.atomic.AtomicReference<>();
        private final java.util.concurrent.atomic.AtomicInteger splits =
                new java.util.concurrent.atomic.AtomicInteger();

        static SplitRelay start(Socket from, Socket to) {
            SplitRelay relay = new SplitRelay();
            Thread.ofVirtual().name("split-relay").start(() -> relay.run(from, to));
            return relay;
        }

        void splitNext(Duration pause) {
            split.set(pause);
        }

        int splits() {
            return splits.get();
        }

        private void run(Socket from, Socket to) {
            byte[] buf = new byte[64 * 1024];
            try {
                int n;
                while ((n = from.getInputStream().read(buf)) > 0) {
                    Duration pause = n > 1 ? split.getAndSet(null) : null;
                    OutputStream out = to.getOutputStream();
                    if (pause == null) {
                        out.write(buf, 0, n);
                    } else {
                        out.write(buf, 0, n / 2);
                        out.flush();
                        Thread.sleep(pause);
                        out.write(buf, n / 2, n - n / 2);
                        splits.incrementAndGet();
                    }
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // a socket closed at the test's end
            }
        }
    }

    /** The client's TLS socket and the server's channel, once both ends have shaken hands. */
    record Ends(SSLSocket client, StreamChannel server) {}

    /** TLS over a loopback pair: the server's end through TlsCredentials.secure, the client's the JDK's. */
    static Ends handshake(
            SSLContext ctx,
            Path dir,
            ServerSocket listener,
            Socket plainClient,
            Socket accepted,
            boolean autoClose,
            String... clientProtocols)
            throws Exception {
        TlsCredentials server = new TlsCredentials(ctx, true, false, dir);
        CompletableFuture<StreamChannel> secured = CompletableFuture.supplyAsync(() -> secure(server, accepted));
        SSLSocket client = (SSLSocket)
                ctx.getSocketFactory().createSocket(plainClient, "localhost", listener.getLocalPort(), autoClose);
        client.setUseClientMode(true);
        if (clientProtocols.length > 0) {
            client.setEnabledProtocols(clientProtocols);
        }
        client.startHandshake();
        return new Ends(client, secured.get(30, TimeUnit.SECONDS));
    }

    private static StreamChannel secure(TlsCredentials server, Socket accepted) {
        try {
            return server.secure(accepted, new byte[0], null, 30_000);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
