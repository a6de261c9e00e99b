package dev.faultdisk.server;

import dev.faultdisk.wire.json.Json;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

/** A line-based QMP client for tests: negotiates, executes, and keeps events apart from replies. */
final class QmpTestClient implements AutoCloseable {
    private final Socket socket = new Socket();
    private final BufferedReader in;
    private final OutputStream out;
    private final Deque<Map<String, Object>> events = new ArrayDeque<>();

    QmpTestClient(SocketAddress address) throws IOException {
        socket.connect(address, 5000);
        socket.setSoTimeout(10_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
        in.readLine(); // greeting
        Map<String, Object> r = execute("{\"execute\": \"qmp_capabilities\"}");
        if (!r.containsKey("return")) {
            throw new IOException("negotiation failed: " + r);
        }
    }

    /** Sends one command and returns its reply ({"return": ...} or {"error": ...}). */
    Map<String, Object> execute(String json) throws IOException {
        out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            Map<String, Object> message = next();
            if (message.containsKey("event")) {
                events.add(message);
            } else {
                return message;
            }
        }
    }

    /** The next event with this name, reading (and keeping) others. */
    Map<String, Object> awaitEvent(String name) throws IOException {
        for (var it = events.iterator(); it.hasNext(); ) {
            Map<String, Object> e = it.next();
            if (name.equals(e.get("event"))) {
                it.remove();
                return e;
            }
        }
        while (true) {
            Map<String, Object> message = next();
            if (name.equals(message.get("event"))) {
                return message;
            }
            if (message.containsKey("event")) {
                events.add(message);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> next() throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("QMP connection closed");
        }
        return (Map<String, Object>) Json.parse(line);
    }

    @SuppressWarnings("unchecked")
    static String errorDesc(Map<String, Object> reply) {
        Object error = reply.get("error");
        return error == null ? null : ((Map<String, Object>) error).get("class") + ": "
                + ((Map<String, Object>) error).get("desc");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
