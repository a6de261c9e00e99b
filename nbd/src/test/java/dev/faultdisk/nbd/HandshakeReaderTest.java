package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which thread a new connection's handshake runs on (see {@link ReaderThreads}): to a server that
 * offers TLS (over TCP or a Unix socket), a platform thread once the greeting is out, so that a
 * TLS handshake is not left to the carrier threads of virtual threads while busy connections'
 * platform readers take the CPUs; to a server without TLS, a virtual thread, as cheap as an idle connection.
 * Either way the connection is on a virtual thread once idle, and serves.
 */
@Timeout(60)
class HandshakeReaderTest {
    @Test
    void aHandshakeThatMayBeTlsRunsOnAPlatformThreadThenTheIdleConnectionMovesToAVirtualOne(@TempDir Path dir)
            throws Exception {
        try (TlsLocalServer server = new TlsLocalServer("x509", dir, "1M")) {
            handshakeOnAPlatformReader(() -> SocketChannel.open(
                    new InetSocketAddress("127.0.0.1", server.server().port())));
            try (RawNbdClient client = server.open()) {
                backOnAVirtualThreadBeforeTheIdleTime(server);
                byte[] data = new byte[4096];
                data[7] = 42;
                client.write(0, data);
                assertEquals(42, client.read(0, 4096)[7]);
            }
        }
    }

    /**
     * Over a Unix socket too (there, with 100 busy TLS connections, handshakes on virtual threads
     * came late and one met the handshake limit); a busy connection's platform reader, which has
     * no timed read there, polls the socket and is back on a virtual thread once idle.
     */
    @Test
    void overAUnixSocketATlsHandshakeRunsOnAPlatformThreadAndABusyReaderGoesBackToAVirtualOneWhenIdle(@TempDir Path dir)
            throws Exception {
        Path socket = dir.resolve("nbd.sock");
        try (TlsLocalServer server = new TlsLocalServer("x509", dir, "1M", socket)) {
            handshakeOnAPlatformReader(() -> SocketChannel.open(UnixDomainSocketAddress.of(socket)));
            try (RawNbdClient client = server.open()) {
                backOnAVirtualThreadBeforeTheIdleTime(server);
                AtomicBoolean sawPlatform = new AtomicBoolean();
                Thread watcher = Thread.ofVirtual().start(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        if (!LiveThreads.platformReaders().isEmpty()) {
                            sawPlatform.set(true);
                        }
                        LockSupport.parkNanos(2_000_000);
                    }
                });
                try {
                    byte[] data = new byte[4096];
                    data[7] = 42;
                    client.write(0, data);
                    assertEquals(42, client.read(0, 4096)[7]);
                    await("the busy connection on a platform reader, then back on a virtual thread")
                            .atMost(Duration.ofSeconds(10))
                            .until(() -> sawPlatform.get()
                                    && LiveThreads.platformReaders().isEmpty());
                } finally {
                    watcher.interrupt();
                }
                assertEquals(42, client.read(0, 4096)[7], "the idle connection still serves");
            }
        }
    }

    /**
     * A raw connection's handshake waits on a platform reader once the greeting is out; the reader
     * ends with the connection.
     */
    private static void handshakeOnAPlatformReader(Callable<SocketChannel> opener) throws Exception {
        try (SocketChannel raw = opener.call()) {
            readGreeting(raw);
            // The reader wrote the greeting and moves on to a platform thread, where it waits for
            // the client's flags.
            await("a platform reader for the handshake")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> LiveThreads.platformReaders().size() == 1);
        }
        await("the reader of the closed handshake ends")
                .atMost(Duration.ofSeconds(10))
                .until(() -> LiveThreads.platformReaders().isEmpty());
    }

    /**
     * A connection idle after its handshake gives its platform reader back within the short first
     * wait ({@link ReaderThreads#AFTER_HANDSHAKE_IDLE_MILLIS}), well before the idle time a busy
     * connection waits (else 10,000 connections opened one after another each held one a second).
     */
    private static void backOnAVirtualThreadBeforeTheIdleTime(TlsLocalServer server) {
        long start = System.nanoTime();
        await("the idle connection is back on a virtual thread")
                .atMost(Duration.ofSeconds(10))
                .until(() -> LiveThreads.platformReaders().isEmpty()
                        && server.server().connectionCount() == 1);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(
                millis < ReaderThreads.IDLE_MILLIS,
                "the reader of an idle connection was given back after " + millis + " ms, not before the idle time");
    }

    @Test
    void aPlaintextHandshakeRunsOnAVirtualThread() throws Exception {
        try (LocalServer server = new LocalServer("d=memory:1M")) {
            try (SocketChannel raw = SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port()))) {
                readGreeting(raw);
                assertEquals(1, server.server().connectionCount());
                assertTrue(
                        LiveThreads.platformReaders().isEmpty(),
                        "platform readers during the handshake: " + LiveThreads.platformReaders());
            }
        }
    }

    /** The newstyle greeting: NBDMAGIC, IHAVEOPT and the handshake flags, 18 bytes. */
    private static void readGreeting(SocketChannel raw) throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        while (greeting.hasRemaining()) { // a Unix socket's channel has no read timeout: the class's limit
            if (raw.read(greeting) < 0) {
                throw new EOFException("the server closed during the greeting");
            }
        }
        greeting.flip();
        assertEquals(NbdProtocol.NBDMAGIC, greeting.getLong());
        assertEquals(NbdProtocol.IHAVEOPT, greeting.getLong());
    }
}
