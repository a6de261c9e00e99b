package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server's TLS session on the JDK's engine ({@link EngineTls}), against the JDK's TLS socket as
 * the client: a key update in mid-stream is answered and the data on both sides of it arrives
 * intact; records larger than the reader's buffer are handed out in pieces; and a connection
 * that waits idle holds none of its lent arrays, and goes on after.
 */
class EngineTlsTest {
    @Test
    void aKeyUpdateInMidStreamIsAnsweredAndNothingIsLost(@TempDir Path dir) throws Exception {
        try (Session session = Session.open(dir)) {
            SSLSocket client = session.client();
            StreamChannel server = session.server();
            assertTrue(server.session().startsWith("TLSv1.3"), server.session());
            byte[] before = pattern(1000, 1);
            byte[] after = pattern(70_000, 2);
            OutputStream out = client.getOutputStream();
            out.write(before);
            client.startHandshake(); // TLS 1.3: a KeyUpdate asking the server to update its keys too
            out.write(after);
            out.flush();
            assertArrayEquals(before, readExactly(server, before.length, 4096));
            assertArrayEquals(after, readExactly(server, after.length, 65536));
            // The server's replies after the update are sealed under its new keys: the client reads them.
            byte[] reply = pattern(200_000, 3);
            server.write(ByteBuffer.allocateDirect(reply.length).put(reply).flip());
            assertArrayEquals(reply, client.getInputStream().readNBytes(reply.length));
        }
    }

    @Test
    void largeRecordsReadInSmallPiecesAndAnIdleConnectionHoldsNothingLent(@TempDir Path dir) throws Exception {
        try (Session session = Session.open(dir)) {
            SSLSocket client = session.client();
            StreamChannel server = session.server();
            InputStream clientIn = client.getInputStream();
            for (int round = 0; round < 3; round++) {
                byte[] sent = pattern(100_000, 10 + round);
                client.getOutputStream().write(sent); // records of 16 KiB, read 100 bytes at a time
                client.getOutputStream().flush();
                assertArrayEquals(sent, readExactly(server, sent.length, 100), "round " + round);
                byte[] reply = pattern(100_000, 20 + round);
                server.write(
                        new ByteBuffer[] {ByteBuffer.wrap(reply, 0, 10), ByteBuffer.wrap(reply, 10, reply.length - 10)
                        });
                assertArrayEquals(reply, clientIn.readNBytes(reply.length), "round " + round);
                assertTrue(server.heldBytes() > 0, "a busy connection holds lent arrays");
                server.releaseIdleWrites();
                server.releaseIdleReads();
                assertEquals(0, server.heldBytes(), "idle, round " + round);
            }
            // An idle wait on a small buffer: a record larger than it waits in the session for the next reads.
            byte[] sent = pattern(20_000, 30);
            client.getOutputStream().write(sent);
            client.getOutputStream().flush();
            ByteBuffer small = ByteBuffer.allocate(4096);
            int n = server.readIdle(small);
            assertTrue(n > 0 && n <= 4096, "read " + n);
            byte[] rest = readExactly(server, sent.length - n, 65536);
            byte[] got = new byte[sent.length];
            small.flip().get(got, 0, n);
            System.arraycopy(rest, 0, got, n, rest.length);
            assertArrayEquals(sent, got);
        }
    }

    @Test
    void aTls12ClientIsServedToo(@TempDir Path dir) throws Exception {
        try (Session session = Session.open(dir, "TLSv1.2")) {
            SSLSocket client = session.client();
            StreamChannel server = session.server();
            assertTrue(server.session().startsWith("TLSv1.2 TLS_"), server.session());
            byte[] sent = pattern(100_000, 40);
            client.getOutputStream().write(sent);
            client.getOutputStream().flush();
            assertArrayEquals(sent, readExactly(server, sent.length, 65536));
            byte[] reply = pattern(100_000, 41);
            server.write(ByteBuffer.wrap(reply));
            assertArrayEquals(reply, client.getInputStream().readNBytes(reply.length));
        }
    }

    @Test
    void aTcpPeerThatNeverHandshakesIsCutOffAtTheLimit(@TempDir Path dir) throws Exception {
        TlsCredentials server = new TlsCredentials(TestTls.context(dir), true, false, dir);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket listener = new ServerSocket(0, 1, loopback);
                Socket silent = new Socket(loopback, listener.getLocalPort());
                Socket accepted = listener.accept()) {
            long start = System.nanoTime();
            SocketTimeoutException e =
                    assertThrows(SocketTimeoutException.class, () -> server.secure(accepted, new byte[0], null, 300));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis >= 250 && millis < 20_000, "cut off after " + millis + " ms: " + e.getMessage());
        }
    }

    /** A loopback TCP pair with TLS on it: the JDK's client, and the server's channel through the engine. */
    private record Session(
            ServerSocket listener, Socket plainClient, Socket accepted, SSLSocket client, StreamChannel server)
            implements AutoCloseable {
        /** The client limited to {@code clientProtocols}, if any are named. */
        static Session open(Path dir, String... clientProtocols) throws Exception {
            SSLContext ctx = TestTls.context(dir);
            InetAddress loopback = InetAddress.getLoopbackAddress();
            ServerSocket listener = new ServerSocket(0, 1, loopback);
            Socket plainClient = null;
            Socket accepted = null;
            try {
                plainClient = new Socket(loopback, listener.getLocalPort());
                accepted = listener.accept();
                TlsBurstReadTest.Ends ends =
                        TlsBurstReadTest.handshake(ctx, dir, listener, plainClient, accepted, true, clientProtocols);
                return new Session(listener, plainClient, accepted, ends.client(), ends.server());
            } catch (Exception e) {
                try (listener;
                        Socket c = plainClient;
                        Socket a = accepted) {
                    throw e;
                }
            }
        }

        @Override
        public void close() throws IOException {
            try (listener;
                    plainClient;
                    accepted) {
                // closed in turn
            }
        }
    }

    private static byte[] readExactly(StreamChannel channel, int length, int piece) throws Exception {
        ByteBuffer got = ByteBuffer.allocate(length);
        ByteBuffer step = ByteBuffer.allocateDirect(piece);
        while (got.hasRemaining()) {
            step.clear().limit(Math.min(piece, got.remaining()));
            int n = channel.read(step);
            assertTrue(n > 0, "the stream ended early");
            got.put(step.flip());
        }
        return got.array();
    }

    private static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return Arrays.copyOf(b, length);
    }
}
