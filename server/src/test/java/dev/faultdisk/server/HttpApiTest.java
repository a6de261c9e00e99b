package dev.faultdisk.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.device.SlabMemory;
import dev.faultdisk.export.Export;
import dev.faultdisk.server.http.HttpOptions;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The HTTP API against the QMP socket of the same server: the same replies and error classes for
 * the same bad input, HTTP's own bad input refused without harm, the event stream, the OpenAPI
 * document, the browser checks and the secret.
 */
class HttpApiTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M")
            .http(new InetSocketAddress("127.0.0.1", 0))
            .httpOptions(HttpOptions.defaults().withMaxEventStreams(1).withSecret("s3cret")));

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    private String base() {
        return fd.server.http().url();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String command, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + "api/v1/" + command))
                .header("Authorization", "Bearer s3cret")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** "Class: desc" of an HTTP error reply, as {@link RunningServer#error} gives a QMP one. */
    @SuppressWarnings("unchecked")
    private static String error(HttpResponse<String> reply) {
        Map<String, Object> error =
                (Map<String, Object>) Json.parseObject(reply.body()).get("error");
        return error.get("class") + ": " + error.get("desc");
    }

    @Test
    void badArgumentsGetTheSameErrorClassAndTextAsOverQmp() throws Exception {
        String[] commands = {
            "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"nope\", \"rules\": []}}",
            "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\"}}",
            "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"gremlin\"}]}}",
            "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"error\", \"probability\": 1.5}]}}",
            "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": 7}}",
            "{\"execute\": \"fault-release\", \"arguments\": {\"device\": \"d0\", \"ids\": [99]}}",
            "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"no_such\", \"type\": \"inject-error\"}]}}",
            "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"once\": \"yes\"}]}}",
            "{\"execute\": \"blkdebug-resume\", \"arguments\": {\"device\": \"d0\", \"tag\": \"t\"}}",
            "{\"execute\": \"write-cache-set-mode\", \"arguments\": {\"device\": \"d0\", \"mode\": \"sideways\"}}",
            "{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"d0\", \"colour\": 1}}",
            "{\"execute\": \"trigger-add\", \"arguments\": {\"triggers\": [{\"when\": {}}]}}",
            "{\"execute\": \"export-add\", \"arguments\": {\"name\": \"x\", \"spec\": \"memory:-1\"}}",
            "{\"execute\": \"snapshot-revert\", \"arguments\": {\"device\": \"d0\", \"name\": \"never\"}}",
            "{\"execute\": \"query-blockstats\", \"arguments\": {\"device\": 5}}",
            "{\"execute\": \"no-such-command\"}",
        };
        for (String command : commands) {
            Map<String, Object> parsed = Json.parseObject(command);
            String qmp = fd.error(command);
            Object arguments = parsed.getOrDefault("arguments", Map.of());
            HttpResponse<String> reply = post((String) parsed.get("execute"), Json.write(arguments));
            assertEquals(qmp, error(reply), command);
            int status = qmp.startsWith("CommandNotFound") || qmp.startsWith("DeviceNotFound") ? 404 : 400;
            assertEquals(status, reply.statusCode(), command);
        }
        Export d0 = fd.export("d0");
        assertTrue(d0.faults().rules().isEmpty() && d0.blkdebug().rules().isEmpty(), "nothing applied");
        // The same success too: the reply QMP sends.
        assertEquals(
                "{\"return\": {\"ids\": [1]}}\n",
                post("fault-add", "{\"device\": \"d0\", \"rules\": [{\"type\": \"error\"}]}")
                        .body());
    }

    /**
     * A client that sends its whole body before it reads (as Python's http.client and curl do)
     * still reads the 413: the server drops the rest of the body before the connection closes,
     * where closing with it unread reset the connection and lost the answer every time.
     */
    @Test
    void aTooLargeBodySentWholeStillGetsIts413() throws Exception {
        InetSocketAddress at = fd.server.http().address();
        byte[] body = ("{\"device\": \"" + "x".repeat(5 << 20) + "\"}").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 3; i++) {
            try (java.net.Socket socket = new java.net.Socket(at.getAddress(), at.getPort())) {
                socket.setSoTimeout((int) WAIT.toMillis());
                socket.getOutputStream()
                        .write(("POST /api/v1/query-faults HTTP/1.1\r\nHost: "
                                        + at.getAddress().getHostAddress() + ":"
                                        + at.getPort() + "\r\nAuthorization: Bearer s3cret\r\n"
                                        + "Content-Type: application/json\r\nContent-Length: " + body.length
                                        + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(body);
                BufferedReader reply =
                        new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                assertEquals("HTTP/1.1 413 Request Entity Too Large", reply.readLine(), "attempt " + i);
            }
        }
        assertEquals(List.of(), fd.execute("{\"execute\": \"query-faults\"}"), "QMP still answers");
    }

    @Test
    void httpsOwnBadInputIsRefusedAndTheServerGoesOn() throws Exception {
        HttpResponse<String> r = post("query-faults", "{\"device\": ");
        assertEquals(400, r.statusCode());
        assertTrue(error(r).startsWith("GenericError: JSON parse error"), r.body());
        r = post("query-faults", "[1, 2]");
        assertEquals(400, r.statusCode());
        assertEquals("GenericError: QMP input member 'arguments' must be an object", error(r));
        r = post("query-faults", "{} {}");
        assertEquals(400, r.statusCode());
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/fault-clear"))
                .header("Authorization", "Bearer s3cret")
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"device\": \"d0\"}")));
        assertEquals(415, r.statusCode(), "a form or text post (no CORS preflight) is refused");
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/fault-clear?device=d0"))
                .header("Authorization", "Bearer s3cret"));
        assertEquals(405, r.statusCode(), "GET never changes anything");
        assertEquals("POST", r.headers().firstValue("Allow").orElseThrow());
        String huge = "{\"device\": \"" + "x".repeat(5 << 20) + "\"}";
        r = post("query-faults", huge);
        assertEquals(413, r.statusCode());
        r = send(HttpRequest.newBuilder(URI.create(base() + "no/such/page")).header("Authorization", "Bearer s3cret"));
        assertEquals(404, r.statusCode());
        // GET works for queries, string arguments from the query string.
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/query-blockstats?device=d0"))
                .header("Authorization", "Bearer s3cret"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("{\"return\": [{\"device\": \"d0\""), r.body());
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/query-blockstats?device=d0&device=d1"))
                .header("Authorization", "Bearer s3cret"));
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("GenericError: query parameter 'device' is given more than once", error(r));
        assertEquals(List.of(), fd.execute("{\"execute\": \"query-faults\"}"), "QMP still answers");
    }

    @Test
    void browsersOfOtherOriginsAndRequestsWithoutTheSecretAreRefused() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/query-block")));
        assertEquals(401, r.statusCode());
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer"));
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/query-block"))
                .header("Authorization", "Bearer wrong"));
        assertEquals(401, r.statusCode());
        r = send(HttpRequest.newBuilder(URI.create(base() + "metrics")));
        assertEquals(401, r.statusCode(), "the metrics need the secret too");
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/query-block?access_token=s3cret")));
        assertEquals(200, r.statusCode(), "a GET may carry the secret in the query string (EventSource)");
        r = send(HttpRequest.newBuilder(
                URI.create(base() + "api/v1/query-block?access_token=wrong&access_token=s3cret")));
        assertEquals(401, r.statusCode(), "two tokens: neither is taken");
        r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/query-block"))
                .header("Authorization", "Bearer s3cret")
                .header("Origin", "http://evil.example"));
        assertEquals(403, r.statusCode());
        assertTrue(error(r).contains("http://evil.example"), r.body());
        // The page itself needs no secret: it asks for it (docs/HTTP.md).
        r = send(HttpRequest.newBuilder(URI.create(base())));
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("<title>faultdisk</title>"));
        assertTrue(
                r.headers().firstValue("Content-Security-Policy").orElseThrow().contains("default-src 'self'"));
        r = send(HttpRequest.newBuilder(URI.create(base() + "uplot.js")));
        assertEquals(200, r.statusCode(), "the chart library comes from the jar");
        assertTrue(r.body().contains("uPlot"));
        r = send(HttpRequest.newBuilder(URI.create(base() + "metrics")).header("Authorization", "Bearer s3cret"));
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("faultdisk_nbd_requests_total{export=\"d0\",op=\"read\"} 0"), r.body());
    }

    @Test
    void everyFiringOfEveryRuleIsCountedUnderItsOwnLabels() throws Exception {
        fd.executeMap("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "error", "ops": ["read"], "errno": "EIO"},
                  {"type": "delay", "ops": ["write"], "ms": 1}]}}""");
        BlockDevice device = fd.export("d0").device();
        for (int i = 0; i < 3; i++) {
            assertThrows(
                    DeviceException.class,
                    () -> device.read(BlockRequest.of(BlockOp.READ, 0, 512), ByteBuffer.allocate(512)));
        }
        for (int i = 0; i < 5; i++) {
            device.write(BlockRequest.of(BlockOp.WRITE, 0, 512), ByteBuffer.allocate(512));
        }
        fd.execute("{\"execute\": \"fault-clear\", \"arguments\": {\"device\": \"d0\"}}");
        fd.executeMap("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "error", "ops": ["write"], "errno": "ENOSPC"}]}}""");
        assertThrows(
                DeviceException.class,
                () -> device.write(BlockRequest.of(BlockOp.WRITE, 0, 512), ByteBuffer.allocate(512)));

        String metrics = send(HttpRequest.newBuilder(URI.create(base() + "metrics"))
                        .header("Authorization", "Bearer s3cret"))
                .body();
        assertTrue(
                metrics.contains("faultdisk_faults_injected_total{export=\"d0\",rule=\"1\",type=\"error\"} 3.0"),
                metrics);
        assertTrue(
                metrics.contains("faultdisk_faults_injected_total{export=\"d0\",rule=\"2\",type=\"delay\"} 5.0"),
                metrics);
        assertTrue(
                metrics.contains("faultdisk_faults_injected_total{export=\"d0\",rule=\"3\",type=\"error\"} 1.0"),
                metrics);
    }

    @Test
    void theQmpSessionsAndTheEventsDroppedForThemAreMetrics() throws Exception {
        long sessions = fd.server.qmp().sessionCount();
        String metrics = send(HttpRequest.newBuilder(URI.create(base() + "metrics"))
                        .header("Authorization", "Bearer s3cret"))
                .body();
        assertTrue(sessions >= 1, "the test's client has a session");
        assertTrue(metrics.contains("\nfaultdisk_qmp_sessions " + sessions + ".0\n"), metrics);
        assertTrue(
                metrics.contains("\nfaultdisk_qmp_events_dropped_total "
                        + fd.server.qmp().eventsDropped() + ".0\n"),
                metrics);
    }

    @Test
    void memoryExportsMappedMemoryAndItsLimitAreMetrics() throws Exception {
        BlockDevice device = fd.export("d0").device();
        device.write(BlockRequest.of(BlockOp.WRITE, 0, 4096), ByteBuffer.allocate(4096)); // a slab at least
        String metrics = send(HttpRequest.newBuilder(URI.create(base() + "metrics"))
                        .header("Authorization", "Bearer s3cret"))
                .body();
        assertEquals((double) SlabMemory.process().limit(), gauge(metrics, "faultdisk_memory_exports_limit_bytes"));
        assertEquals(
                (double) SlabMemory.process().systemReserve(),
                gauge(metrics, "faultdisk_memory_exports_reserve_bytes"));
        assertTrue(SlabMemory.process().systemReserve() >= 64L << 20, "the default reserve: at least 64 MiB");
        double mapped = gauge(metrics, "faultdisk_memory_exports_mapped_bytes");
        assertTrue(mapped >= 2 << 20, "d0's slab at least: " + mapped);
        long total = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        double available = gauge(metrics, "faultdisk_memory_available_bytes");
        assertTrue(available > 0 && available <= total, available + " bytes available of " + total);
    }

    @Test
    void aSlabRefusedAtTheSystemsReserveIsCounted() throws Exception {
        SlabMemory memory = SlabMemory.process();
        long reserve = memory.systemReserve();
        long before = memory.refusals();
        memory.systemReserve(1L << 50); // more than this machine has
        try (MemoryDevice fresh = new MemoryDevice(4 << 20)) {
            DeviceException e = assertThrows(
                    DeviceException.class,
                    () -> fresh.write(BlockRequest.of(BlockOp.WRITE, 0, 4096), ByteBuffer.allocate(4096)));
            assertTrue(e.getMessage().contains("--memory-reserve"), e.getMessage());
        } finally {
            memory.systemReserve(reserve);
        }
        assertEquals(before + 1, memory.refusals());
        String metrics = send(HttpRequest.newBuilder(URI.create(base() + "metrics"))
                        .header("Authorization", "Bearer s3cret"))
                .body();
        assertEquals((double) before + 1, gauge(metrics, "faultdisk_memory_exports_refusals_total"));
    }

    /** The value of an unlabelled gauge in Prometheus's text format. */
    private static double gauge(String metrics, String name) {
        Matcher m = Pattern.compile("\n" + name + " ([0-9.Ee+]+)\n").matcher(metrics);
        assertTrue(m.find(), name + " in " + metrics);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void theEventStreamCarriesWhatQmpSessionsGetWithinItsBudget() throws Exception {
        HttpRequest stream = HttpRequest.newBuilder(URI.create(base() + "api/v1/events?access_token=s3cret"))
                .build();
        HttpResponse<InputStream> open = http.send(stream, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, open.statusCode());
        assertEquals(
                "text/event-stream; charset=utf-8",
                open.headers().firstValue("Content-Type").orElseThrow());
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(open.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // closed at the end of the test
            }
        });
        HttpResponse<String> second = http.send(stream, HttpResponse.BodyHandlers.ofString());
        assertEquals(503, second.statusCode(), "one stream at a time in this server's budget");
        await("the stream is open").atMost(WAIT).until(() -> lines.contains(": faultdisk events"));
        post("power-fail", "{\"device\": \"d0\", \"seed\": 3}");
        Map<String, Object> qmpEvent = fd.awaitEvent("POWER_FAIL");
        await("the event on the stream")
                .atMost(WAIT)
                .until(() -> lines.stream().anyMatch(l -> l.equals("event: POWER_FAIL")));
        String data = lines.stream()
                .filter(l -> l.startsWith("data: ") && l.contains("POWER_FAIL"))
                .findFirst()
                .orElseThrow();
        Map<String, Object> sse = Json.parseObject(data.substring("data: ".length()));
        assertEquals("POWER_FAIL", sse.get("event"));
        assertEquals(qmpEvent, sse.get("data"), "the same data as the QMP session got");
        fd.close(); // ends the stream
        reader.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theOpenApiDocumentHasEveryCommandAndItsArguments() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base() + "api/v1/openapi.json"))
                .header("Authorization", "Bearer s3cret"));
        assertEquals(200, r.statusCode());
        Map<String, Object> doc = Json.parseObject(r.body());
        assertEquals("3.1.0", doc.get("openapi"));
        Map<String, Object> paths = (Map<String, Object>) doc.get("paths");
        for (var command : fd.server.commands().commands()) {
            if (command.name().equals("qmp_capabilities")) {
                continue;
            }
            Map<String, Object> post =
                    (Map<String, Object>) ((Map<String, Object>) paths.get("/api/v1/" + command.name())).get("post");
            assertEquals(command.name(), post.get("operationId"));
            Map<String, Object> schema = (Map<String, Object>) ((Map<String, Object>)
                            ((Map<String, Object>) ((Map<String, Object>) post.get("requestBody")).get("content"))
                                    .get("application/json"))
                    .get("schema");
            Map<String, Object> properties = (Map<String, Object>) schema.get("properties");
            for (var argument : command.arguments()) {
                assertTrue(properties.containsKey(argument.name()), command.name() + " " + argument.name());
            }
        }
        assertTrue(paths.containsKey("/api/v1/events"));
        assertTrue(paths.containsKey("/metrics"));
    }
}
