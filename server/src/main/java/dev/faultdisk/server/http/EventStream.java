package dev.faultdisk.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.faultdisk.qmp.QmpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /api/v1/events}: the QMP events as Server-Sent Events. Each is {@code id: N},
 * {@code event: NAME} and {@code data:} the event as a QMP session gets it (timestamp, event,
 * data). A comment line every 15 s keeps proxies from closing an idle stream. A client that falls
 * more than its budget of events behind gets an {@code overflow} event and the stream ends.
 */
final class EventStream implements HttpHandler {
    static final String PATH = ApiHandler.PREFIX + "events";
    private static final String END = "";
    private static final long KEEP_ALIVE_SECONDS = 15;

    private final QmpServer events;
    private final Semaphore streams;
    private final int maxStreams;
    private final int maxQueued;
    private final Set<BlockingQueue<String>> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    EventStream(QmpServer events, HttpOptions options) {
        this.events = events;
        this.maxStreams = options.maxEventStreams();
        this.streams = new Semaphore(options.maxEventStreams());
        this.maxQueued = options.maxQueuedEvents();
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("GET")) {
            ex.getResponseHeaders().set("Allow", "GET");
            Exchanges.error(ex, 405, "Method " + ex.getRequestMethod() + " not allowed here; use GET");
            return;
        }
        if (closed || !streams.tryAcquire()) {
            ex.getResponseHeaders().set("Retry-After", "5");
            Exchanges.error(ex, 503, "Too many event streams open (at most " + maxStreams + ")");
            return;
        }
        BlockingQueue<String> queue = new ArrayBlockingQueue<>(maxQueued + 1);
        QmpServer.EventListener listener = (number, name, json) -> {
            if (!queue.offer("id: " + number + "\nevent: " + name + "\ndata: " + json + "\n\n")) {
                queue.clear();
                queue.offer("event: overflow\ndata: {\"dropped-after\": " + number + "}\n\n");
                queue.offer(END);
            }
        };
        open.add(queue);
        events.addEventListener(listener);
        try (ex) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, 0); // chunked: a stream
            OutputStream out = ex.getResponseBody();
            write(out, "retry: 2000\n: faultdisk events\n\n");
            while (!closed) {
                String next = queue.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                if (next == null) {
                    write(out, ": keep-alive\n\n");
                } else if (next.equals(END)) {
                    break;
                } else {
                    write(out, next);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client went away
        } finally {
            events.removeEventListener(listener);
            open.remove(queue);
            streams.release();
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Ends every stream (the server is closing). */
    void close() {
        closed = true;
        for (BlockingQueue<String> queue : open) {
            queue.clear();
            queue.offer(END);
        }
    }
}
