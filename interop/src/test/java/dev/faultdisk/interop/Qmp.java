package dev.faultdisk.interop;

import dev.faultdisk.wire.json.Json;
import org.junit.jupiter.api.Assertions;

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

/** A QMP client over a real socket for interop tests: negotiates, executes, keeps events apart. */
final class Qmp implements AutoCloseable {
    private final Socket socket = new Socket();
    private final BufferedReader in;
    private final OutputStream out;
    private final Deque<Map<String, Object>> events = new ArrayDeque<>();

    Qmp(SocketAddress address) throws IOException {
        socket.connect(address, 5000);
        socket.setSoTimeout(30_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
        in.readLine(); // greeting
        ok("{\"execute\": \"qmp_capabilities\"}");
    }

    /** Sends a command and returns the whole reply. */
    Map<String, Object> execute(String json) throws IOException {
        out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            Map<String, Object> m = next();
            if (m.containsKey("event")) {
                events.add(m);
            } else {
                return m;
            }
        }
    }

    /** Sends a command that must succeed; returns its "return" value. */
    @SuppressWarnings("unchecked")
    <T> T ok(String json) throws IOException {
        Map<String, Object> reply = execute(json);
        Assertions.assertTrue(reply.containsKey("return"), () -> json + " -> " + reply);
        return (T) reply.get("return");
    }

    /** The "desc" of an error reply. */
    @SuppressWarnings("unchecked")
    String error(String json) throws IOException {
        Map<String, Object> reply = execute(json);
        Assertions.assertTrue(reply.containsKey("error"), () -> json + " -> " + reply);
        return (String) ((Map<String, Object>) reply.get("error")).get("desc");
    }

    /** The data of the next event called {@code name}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> awaitEvent(String name) throws IOException {
        for (var it = events.iterator(); it.hasNext(); ) {
            Map<String, Object> e = it.next();
            if (name.equals(e.get("event"))) {
                it.remove();
                return (Map<String, Object>) e.get("data");
            }
        }
        while (true) {
            Map<String, Object> m = next();
            if (name.equals(m.get("event"))) {
                return (Map<String, Object>) m.get("data");
            }
            if (m.containsKey("event")) {
                events.add(m);
            }
        }
    }

    /** fault-add on {@code device} with the rules given as a JSON array. */
    void addFaults(String device, String rulesJson) throws IOException {
        ok("{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"" + device + "\", \"rules\": " + rulesJson + "}}");
    }

    void clearFaults(String device) throws IOException {
        ok("{\"execute\": \"fault-clear\", \"arguments\": {\"device\": \"" + device + "\"}}");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> next() throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("QMP connection closed");
        }
        return (Map<String, Object>) Json.parse(line);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
