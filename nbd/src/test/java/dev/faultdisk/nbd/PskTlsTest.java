package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.net.ChannelSocket;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PSK file that cannot be read is refused saying which and why; a PSK connection survives a
 * read timeout inside a record (its reader waits with one to learn that it went idle).
 */
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
    @Test
    void aReadTimeoutInsideARecordLosesNothing(@TempDir Path dir) throws Exception {
        byte[] key = new byte[32];
        new Random(7).nextBytes(key);
        Path file = dir.resolve("keys.psk");
        Files.writeString(file, "alice:" + HexFormat.of().formatHex(key) + "\n");
        PskTls psk = PskTls.load(file);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ExecutorService handshakes = Executors.newVirtualThreadPerTaskExecutor();
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(loopback, 0));
                Socket client = new Socket(loopback, listener.socket().getLocalPort());
                SocketChannel accepted = listener.accept()) {
            Future<StreamChannel> server =
                    handshakes.submit(() -> psk.handshake(ChannelSocket.of(accepted), new byte[0], 10_000));
            PartedOutput wire = new PartedOutput(client.getOutputStream());
            TlsClientProtocol tls = new TlsClientProtocol(client.getInputStream(), wire);
            tls.connect(new PSKTlsClient(new BcTlsCrypto(new SecureRandom()), new BasicTlsPSKIdentity("alice", key)));
            StreamChannel channel = server.get(10, TimeUnit.SECONDS);
            Socket plain = accepted.socket();

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
        } finally {
            handshakes.shutdownNow();
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
