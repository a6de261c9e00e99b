package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cli.LatencyQuantiles;
import dev.faultdisk.client.BlockStats;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's) scrapes {@code serve --metrics}: what its query API answers for
 * the request counts and the latency quantiles agrees with the QMP counters and histograms of the
 * same traffic, and promtool finds nothing to complain about in the exposition.
 */
class PrometheusScrapeTest {
    private static final Duration WAIT = Duration.ofSeconds(40);
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void prometheusQueriesAgreeWithQmpForTheSameTraffic(@TempDir Path dir) throws Exception {
        Tools.require("prometheus", "promtool", "qemu-io");
        try (FaultdiskServer server = FaultdiskServer.builder()
                        .export("p0=memory:16M")
                        .export("p1=memory:16M")
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .metrics(new InetSocketAddress("127.0.0.1", 0))
                        .start();
                FaultdiskClient qmp =
                        FaultdiskClient.connect(server.qmpAddresses().getFirst(), WAIT)) {
            // Reads wait 2 ms (some 5), so that the quantiles sit well inside the buckets.
            qmp.faultAdd(
                    "p0",
                    FaultRule.delay().fixedMs(2).ops("read"),
                    FaultRule.delay().fixedMs(3).ops("read").nth(4));
            String uri = "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/p0";
            List<String> io = new ArrayList<>(List.of("write -P 7 0 256k"));
            for (int i = 0; i < 24; i++) {
                io.add("read -P 7 " + (i % 4) * 65536 + " 64k");
            }
            QemuIo.run(uri, io.toArray(String[]::new)).assertOk("qemu-io");
            // A large write that no layer needs (p0's rules need every request's bytes; p1 has none).
            QemuIo.run(uri.replace("/p0", "/p1"), "write -P 9 0 256k").assertOk("qemu-io on p1");
            BlockStats stats = qmp.queryBlockstats("p0");
            long reads = stats.ops().get("read").operations();
            long writes = stats.ops().get("write").operations();
            assertEquals(24, reads);

            // promtool on the exposition itself.
            HttpResponse<String> scrape = http.send(
                    HttpRequest.newBuilder(URI.create(server.metricsUrl())).build(),
                    HttpResponse.BodyHandlers.ofString());
            Path exposition = Files.writeString(dir.resolve("metrics.txt"), scrape.body());
            CommandResult lint =
                    Command.run(Duration.ofSeconds(30), "sh", "-c", "promtool check metrics < " + exposition);
            lint.assertOk("promtool check metrics");
            assertEquals("", (lint.stdout() + lint.stderr()).strip(), "promtool's findings");

            int port;
            try (ServerSocket free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            InetSocketAddress target = server.metricsAddress();
            Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                    global: {scrape_interval: 1s, evaluation_interval: 1s}
                    scrape_configs:
                      - job_name: faultdisk
                        static_configs: [{targets: ['127.0.0.1:%d']}]
                    """.formatted(target.getPort()));
            Command.run(Duration.ofSeconds(30), "promtool", "check", "config", config.toString())
                    .assertOk("promtool check config");
            Process prometheus = new ProcessBuilder(
                            "prometheus",
                            "--config.file=" + config,
                            "--storage.tsdb.path=" + dir.resolve("data"),
                            "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("prometheus.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            try {
                String api = "http://127.0.0.1:" + port + "/api/v1/query?query=";
                String readCount = "faultdisk_nbd_requests_total{export=\"p0\",op=\"read\"}";
                await("Prometheus has scraped the read count (log: " + dir.resolve("prometheus.log") + ")")
                        .atMost(WAIT)
                        .ignoreExceptions()
                        .until(() -> value(api, readCount) == reads);
                assertEquals(writes, value(api, "faultdisk_nbd_requests_total{export=\"p0\",op=\"write\"}"));
                assertEquals(
                        reads,
                        value(api, "faultdisk_nbd_request_duration_seconds_count{export=\"p0\",op=\"read\"}"),
                        "the histogram counts what the counters count");
                assertEquals(24L * 65536, value(api, "faultdisk_nbd_bytes_total{export=\"p0\",op=\"read\"}"));
                // Of the two large writes only p1's went another way than a buffer: spliced, or
                // received into the pages (p0's fault rules need the bytes of its requests).
                long largeWrite = value(
                        api, "sum(faultdisk_nbd_data_paths_total{path=~\"write_through_pipe|write_into_pages\"})");
                assertEquals(1, largeWrite, "the 256 KiB writes' ways");
                assertEquals(
                        server.nbd().writesThroughPipe() + server.nbd().writesIntoPages(),
                        largeWrite,
                        "as the server counts them");
                Map<String, Object> latency =
                        cast((Map<?, ?>) qmp.execute("query-latency", FaultdiskClient.args("device", "p0")));
                for (double q : new double[] {0.5, 0.9, 0.99}) {
                    double fromPrometheus = valueDouble(
                            api,
                            "histogram_quantile(" + q
                                    + ", faultdisk_nbd_request_duration_seconds_bucket{export=\"p0\",op=\"read\"})");
                    double fromQmp = readQuantile(latency, q);
                    assertEquals(fromQmp, fromPrometheus, fromQmp * 1e-6, "quantile " + q);
                    assertTrue(fromPrometheus >= 0.0015, "reads waited 2 ms: quantile " + q + " = " + fromPrometheus);
                }
            } finally {
                prometheus.destroy();
                prometheus.waitFor();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    /** The read quantile from query-latency's buckets, as top and the dashboard compute it. */
    @SuppressWarnings("unchecked")
    private static double readQuantile(Map<String, Object> latency, double q) {
        List<Double> bounds = ((List<Number>) latency.get("bounds"))
                .stream().map(Number::doubleValue).toList();
        Map<String, Object> export = ((List<Map<String, Object>>) latency.get("exports")).getFirst();
        for (Map<String, Object> op : (List<Map<String, Object>>) export.get("ops")) {
            if (op.get("op").equals("read")) {
                long[] counts = ((List<Number>) op.get("counts"))
                        .stream().mapToLong(Number::longValue).toArray();
                return LatencyQuantiles.quantile(q, bounds, counts);
            }
        }
        throw new AssertionError("no read histogram in " + latency);
    }

    private long value(String api, String query) throws Exception {
        return Math.round(valueDouble(api, query));
    }

    @SuppressWarnings("unchecked")
    private double valueDouble(String api, String query) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(api + URLEncoder.encode(query, StandardCharsets.UTF_8)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, Object> reply = Json.parseObject(r.body());
        assertEquals("success", reply.get("status"), r.body());
        List<Map<String, Object>> result =
                (List<Map<String, Object>>) ((Map<String, Object>) reply.get("data")).get("result");
        assertEquals(1, result.size(), query + " -> " + r.body());
        return Double.parseDouble((String) ((List<Object>) result.getFirst().get("value")).get(1));
    }
}
