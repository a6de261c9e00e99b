package dev.faultdisk.client;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.net.ChannelSocket;
import dev.faultdisk.wire.net.StreamChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One QMP session: a reader thread matches replies to commands by {@code id} and queues events.
 * Commands may be sent from any number of threads at once.
 */
final class QmpConnection implements AutoCloseable {
    private static final int MAX_QUEUED_EVENTS = 10_000;

    private final String address;
    private final LineChannel lines;
    private final Thread reader;
    private final CompletableFuture<Map<String, Object>> greeting = new CompletableFuture<>();
    private final ConcurrentHashMap<Long, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    final EventQueue events = new EventQueue(MAX_QUEUED_EVENTS);
    private volatile String endedBecause;
    private volatile boolean closing;
    /** Set when the peer turned out to speak another protocol; read once the greeting failed. */
    private volatile NotQmpException notQmp;

    private QmpConnection(String address, ByteChannel channel) {
        this.address = address;
        this.lines = new LineChannel(channel);
        this.reader = new Thread(this::readLoop, "faultdisk-client-reader " + address);
        this.reader.setDaemon(true);
    }

    /** Connects, reads the greeting and negotiates capabilities. */
    static QmpConnection open(SocketAddress address, Duration timeout) throws IOException {
        return open(address, timeout, ControlSecurity.NONE);
    }

    /** Connects over TLS and/or with the shared secret, as {@code security} says. */
    static QmpConnection open(SocketAddress address, Duration timeout, ControlSecurity security) throws IOException {
        String name = ControlAddress.format(address);
        SocketChannel socket = connect(address, timeout, name);
        ByteChannel channel = socket;
        if (security.tls() != null) {
            String host = address instanceof InetSocketAddress inet ? inet.getHostString() : null;
            try {
                channel = new StreamChannel(security.tls().handshake(ChannelSocket.of(socket), new byte[0], host, (int)
                        Math.min(Integer.MAX_VALUE, timeout.toMillis())));
            } catch (IOException e) {
                socket.close();
                throw new IOException(name + ": TLS handshake failed: " + e.getMessage(), e);
            }
        }
        QmpConnection c = new QmpConnection(name, channel);
        c.reader.start();
        try {
            c.greeting.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            c.execute(
                    "qmp_capabilities",
                    security.secret() == null ? null : Map.of("secret", security.secret()),
                    timeout);
            return c;
        } catch (TimeoutException e) {
            c.close();
            throw new IOException(
                    name + " sent no QMP greeting within " + timeout.toMillis() + " ms (is it a QMP server?)");
        } catch (ExecutionException e) {
            c.close();
            if (c.notQmp != null) {
                throw new NotQmpException(name + ": " + c.notQmp.getMessage());
            }
            throw new IOException(name + ": " + e.getCause().getMessage(), e.getCause());
        } catch (QmpException | QmpConnectionException | FaultdiskTimeoutException e) {
            c.close();
            throw new IOException(name + ": capabilities negotiation failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            c.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting to " + name);
        }
    }

    private static SocketChannel connect(SocketAddress address, Duration timeout, String name) throws IOException {
        SocketChannel channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        try {
            // A non-blocking connect bounded by the timeout: a blocking one has none.
            channel.configureBlocking(false);
            if (!channel.connect(address)) {
                try (Selector selector = Selector.open()) {
                    channel.register(selector, SelectionKey.OP_CONNECT);
                    if (selector.select(Math.max(1, timeout.toMillis())) == 0) {
                        throw new IOException("cannot connect to " + name + ": timed out");
                    }
                    channel.finishConnect();
                }
            }
            channel.configureBlocking(true);
            return channel;
        } catch (IOException e) {
            channel.close();
            if (e.getMessage() != null && e.getMessage().startsWith("cannot connect")) {
                throw e;
            }
            throw new IOException("cannot connect to " + name + ": " + e.getMessage(), e);
        }
    }

    /** The greeting's {@code QMP} member: version and capabilities. */
    Map<String, Object> greeting() {
        return Replies.object(greeting.join().get("QMP"), "QMP").asMap();
    }

    String address() {
        return address;
    }

    Object execute(String name, Map<String, ?> arguments, Duration timeout) {
        if (endedBecause != null) {
            throw new QmpConnectionException("cannot send " + name + ": " + endedBecause);
        }
        long id = ids.incrementAndGet();
        Map<String, Object> command = new LinkedHashMap<>();
        command.put("execute", name);
        if (arguments != null && !arguments.isEmpty()) {
            command.put("arguments", arguments);
        }
        command.put("id", id);
        String text = Json.write(command); // before registering: a value with no JSON form throws here
        CompletableFuture<Map<String, Object>> reply = new CompletableFuture<>();
        pending.put(id, reply);
        if (endedBecause != null) { // the reader may have failed everything pending just before the put
            pending.remove(id);
            throw new QmpConnectionException("cannot send " + name + ": " + endedBecause);
        }
        try {
            lines.writeLine(text);
            Map<String, Object> r = reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (r.get("error") instanceof Map<?, ?> error) {
                throw new QmpException(name, String.valueOf(error.get("class")), String.valueOf(error.get("desc")));
            }
            return r.get("return");
        } catch (IOException e) {
            throw new QmpConnectionException("cannot send " + name + " to " + address + ": " + e.getMessage(), e);
        } catch (TimeoutException e) {
            throw new FaultdiskTimeoutException(
                    "no reply to " + name + " from " + address + " within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new QmpConnectionException(name + ": " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for the reply to " + name);
        } finally {
            pending.remove(id);
        }
    }

    private void readLoop() {
        String why = "the server closed the connection";
        try {
            for (String line; (line = lines.readLine()) != null; ) {
                if (!line.isBlank()) {
                    dispatch(Replies.object(Json.parse(line), "QMP message").asMap());
                }
            }
        } catch (NotQmpException e) {
            notQmp = e;
            why = e.getMessage();
        } catch (IOException e) {
            why = closing ? "the client was closed" : "connection failed: " + e.getMessage();
        } catch (RuntimeException e) { // invalid JSON or a message of the wrong shape
            why = "the server sent something that is not QMP: " + e.getMessage();
        } finally {
            end(closing ? "the client was closed" : why);
        }
    }

    private void dispatch(Map<String, Object> message) {
        if (message.containsKey("QMP")) {
            greeting.complete(message);
        } else if (message.get("event") instanceof String name) {
            Map<String, Object> data = message.get("data") instanceof Map<?, ?>
                    ? Replies.object(message.get("data"), "data").asMap()
                    : Map.of();
            events.add(name, data, timestamp(message.get("timestamp")));
        } else if (message.containsKey("return") || message.containsKey("error")) {
            CompletableFuture<Map<String, Object>> reply =
                    message.get("id") instanceof Long id ? pending.remove(id) : null;
            if (reply != null) {
                reply.complete(message);
            }
            // A reply without a known id answers a command given up on (timed out): dropped.
        }
    }

    private static Instant timestamp(Object value) {
        if (value instanceof Map<?, ?> m
                && m.get("seconds") instanceof Long s
                && m.get("microseconds") instanceof Long us) {
            return Instant.ofEpochSecond(s, us * 1000);
        }
        return Instant.EPOCH;
    }

    private void end(String why) {
        endedBecause = why;
        greeting.completeExceptionally(new IOException(why));
        for (Long id : pending.keySet()) {
            CompletableFuture<Map<String, Object>> reply = pending.remove(id);
            if (reply != null) {
                reply.completeExceptionally(new IOException(why));
            }
        }
        events.end(why);
    }

    boolean isOpen() {
        return endedBecause == null;
    }

    @Override
    public void close() {
        closing = true;
        try {
            lines.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
