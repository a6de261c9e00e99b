package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS over a Unix domain socket, whose channel has no {@link java.net.Socket} of its own: the
 * JDK's TLS runs over {@link ChannelSocket}, both ways, and a peer that never sends its handshake
 * is cut off at the handshake's time limit instead of holding the thread.
 */
class TlsOverUnixSocketTest {
    @Test
    void bothEndsExchangeDataOverAUnixSocket(@TempDir Path dir) throws Exception {
        SSLContext ctx = TestTls.context(dir);
        TlsCredentials server = new TlsCredentials(ctx, true, false, dir);
        Path path = dir.resolve("tls.sock");
        try (ServerSocketChannel listener =
                        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path));
                SocketChannel clientChannel = SocketChannel.open(UnixDomainSocketAddress.of(path));
                SocketChannel accepted = listener.accept()) {
            CompletableFuture<StreamChannel> secured = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.secure(ChannelSocket.of(accepted), new byte[0], null, 30_000);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            SSLSocket client = (SSLSocket)
                    ctx.getSocketFactory().createSocket(ChannelSocket.of(clientChannel), "localhost", 0, true);
            client.setUseClientMode(true);
            client.startHandshake();
            StreamChannel channel = secured.get(30, TimeUnit.SECONDS);

            byte[] hello = "over a unix socket".getBytes(StandardCharsets.US_ASCII);
            client.getOutputStream().write(hello);
            client.getOutputStream().flush();
            ByteBuffer got = ByteBuffer.allocate(hello.length);
            while (got.hasRemaining()) {
                assertTrue(channel.read(got) > 0);
            }
            assertArrayEquals(hello, got.array());
            channel.write(ByteBuffer.wrap(hello));
            assertArrayEquals(hello, client.getInputStream().readNBytes(hello.length));
        }
    }

    @Test
    void aPeerThatNeverHandshakesIsCutOffAtTheLimit(@TempDir Path dir) throws Exception {
        TlsCredentials server = new TlsCredentials(TestTls.context(dir), true, false, dir);
        Path path = dir.resolve("silent.sock");
        try (ServerSocketChannel listener =
                        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path));
                SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(path));
                SocketChannel accepted = listener.accept()) {
            long start = System.nanoTime();
            SocketTimeoutException e = assertThrows(
                    SocketTimeoutException.class,
                    () -> server.secure(ChannelSocket.of(accepted), new byte[0], null, 300));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis >= 250 && millis < 20_000, "cut off after " + millis + " ms: " + e.getMessage());
            assertTrue(!accepted.isOpen(), "the channel closed");
        }
    }
}
