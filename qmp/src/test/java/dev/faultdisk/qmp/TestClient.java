package dev.faultdisk.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A raw QMP client over a real socket: sends bytes, collects CRLF-terminated lines. */
final class TestClient implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final SocketChannel channel;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final CountDownLatch eof = new CountDownLatch(1);
    private final CountDownLatch reading;
    private volatile String protocolViolation;

    private TestClient(SocketChannel channel, boolean read, boolean paused) {
        this.channel = channel;
        this.reading = new CountDownLatch(paused ? 1 : 0);
        if (read) {
            Thread.ofVirtual().name("test-client-reader").start(this::readLoop);
        }
    }

    static TestClient connect(SocketAddress address) throws IOException {
        return new TestClient(open(address, 0), true, false);
    }

    /** A client that reads nothing until {@link #resume}, with a small receive buffer. */
    static TestClient connectPaused(SocketAddress address) throws IOException {
        return new TestClient(open(address, 4096), true, true);
    }

    /** Starts reading (a client from {@link #connectPaused}). */
    void resume() {
        reading.countDown();
    }

    /** A client that never reads, with a small receive buffer so that it stalls soon. */
    static TestClient connectSilent(SocketAddress address) throws IOException {
        return new TestClient(open(address, 4096), false, false);
    }

    private static SocketChannel open(SocketAddress address, int receiveBuffer) throws IOException {
        SocketChannel channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        if (receiveBuffer > 0) {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
        }
        if (!(address instanceof UnixDomainSocketAddress)) {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        channel.connect(address);
        return channel;
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    void send(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** The next line (without its CRLF); fails after a while if none comes. */
    String line() throws InterruptedException {
        String line = lines.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (protocolViolation != null) {
            fail(protocolViolation);
        }
        if (line == null) {
            fail("no line from the server within " + WAIT);
        }
        return line;
    }

    /** Lines received and not yet taken. */
    int pending() {
        return lines.size();
    }

    String command(String json) throws IOException, InterruptedException {
        send(json);
        return line();
    }

    /** Reads the greeting and negotiates. */
    void negotiate() throws IOException, InterruptedException {
        line();
        assertEquals("{\"return\": {}}", command("{\"execute\": \"qmp_capabilities\"}"));
    }

    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** Waits until the server closes the connection. */
    void awaitEndOfStream() throws InterruptedException {
        if (!eof.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the server did not close the connection");
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        try {
            reading.await();
            while (channel.read(buffer.clear()) >= 0) {
                for (int i = 0; i < buffer.position(); i++) {
                    int b = buffer.get(i) & 0xFF;
                    if (b >= 0x80) {
                        protocolViolation = "non-ASCII byte from the server: " + b;
                    }
                    if (b == '\n') {
                        if (previous != '\r') {
                            protocolViolation = "line not ended by CRLF: " + line;
                        }
                        byte[] text = line.toByteArray();
                        int length = previous == '\r' ? text.length - 1 : text.length;
                        lines.add(new String(text, 0, length, StandardCharsets.US_ASCII));
                        line.reset();
                    } else {
                        line.write(b);
                    }
                    previous = b;
                }
            }
        } catch (IOException e) {
            // the connection ended
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            eof.countDown();
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
