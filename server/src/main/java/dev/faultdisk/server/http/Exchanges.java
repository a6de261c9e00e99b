package dev.faultdisk.server.http;

import com.sun.net.httpserver.HttpExchange;
import dev.faultdisk.wire.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Replies and request bodies: what every handler of the HTTP server shares. */
final class Exchanges {
    static final String JSON = "application/json";

    /** Request body bytes a reply drops at most before its connection may close (see {@link #send}). */
    private static final long DISCARD = 16L << 20;

    private Exchanges() {}

    /**
     * Sends {@code body} (UTF-8) with {@code status} and closes the exchange. A request body the
     * handler left unread (a refusal before reading it) is read and dropped first, up to
     * {@link #DISCARD} bytes: closing the connection with a request's bytes unread makes the kernel
     * reset it, and the reset can reach the client before it has read the answer (it would see
     * the connection die, not the refusal). Web servers linger the same way. A client that sends
     * nothing more holds the handler no longer than one that sends a body slowly.
     */
    static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head || status == 204 ? -1 : bytes.length);
        if (head || status == 204) {
            drop(ex.getRequestBody());
        } else {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
                out.flush(); // the answer is on its way while the rest of the body is dropped
                drop(ex.getRequestBody());
            }
        }
        ex.close();
    }

    /** A JSON reply: the QMP reply's own text. */
    static void json(HttpExchange ex, int status, String json) throws IOException {
        send(ex, status, JSON, json + "\n");
    }

    /** An error as QMP words one: {@code {"error": {"class": "GenericError", "desc": ...}}}. */
    static void error(HttpExchange ex, int status, String desc) throws IOException {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("class", "GenericError");
        error.put("desc", desc);
        json(ex, status, Json.write(Map.of("error", error)));
    }

    /**
     * The request body, or null after answering 413 when it is longer than {@code max} bytes
     * (kept no further than that: a client cannot make the server hold more).
     */
    static byte[] body(HttpExchange ex, int max) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > max) {
                    tooLarge(ex, max);
                    return null;
                }
            } catch (NumberFormatException e) {
                error(ex, 400, "Bad Content-Length");
                return null;
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try (InputStream in = ex.getRequestBody()) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (out.size() + n > max) {
                    tooLarge(ex, max);
                    return null;
                }
                out.write(buffer, 0, n);
            }
        }
        return out.toByteArray();
    }

    private static void tooLarge(HttpExchange ex, int max) throws IOException {
        error(ex, 413, "Request body larger than " + max + " bytes");
    }

    private static void drop(InputStream in) throws IOException {
        byte[] sink = new byte[8192];
        long left = DISCARD;
        int n;
        while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
            left -= n;
        }
    }

    /**
     * The query string's parameters, decoded.
     *
     * @throws IllegalArgumentException for a parameter given twice (which one was meant is not
     *     for the server to guess), with a message for the 400 reply (a broken %-escape never gets
     *     here: the JDK's server refuses the request line first)
     */
    static Map<String, String> query(HttpExchange ex) {
        Map<String, String> out = new LinkedHashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = URLDecoder.decode(eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (out.putIfAbsent(key, value) != null) {
                throw new IllegalArgumentException("query parameter '" + key + "' is given more than once");
            }
        }
        return out;
    }
}
