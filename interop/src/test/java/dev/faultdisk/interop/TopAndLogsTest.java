package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code faultdisk top} over a busy server, and serve's connection log lines as JSON. */
class TopAndLogsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void topShowsRatesLatencyAndRulesOfABusyExport() throws Exception {
        Tools.require("fio");
        try (FaultdiskServer server = FaultdiskServer.builder()
                        .export("t0=memory:64M")
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .timeRequests(true)
                        .start();
                FaultdiskClient qmp =
                        FaultdiskClient.connect(server.qmpAddresses().getFirst(), WAIT)) {
            qmp.faultAdd("t0", FaultRule.delay().fixedMs(1).ops("read").probability(0.05));
            String uri = "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/t0";
            CompletableFuture<CommandResult> fio = CompletableFuture.supplyAsync(() -> Fio.run(
                    uri,
                    List.of("--rw=randrw", "--bs=4k", "--iodepth=2", "--size=16M", "--time_based", "--runtime=6")));
            InetSocketAddress control =
                    (InetSocketAddress) server.qmpAddresses().getFirst();
            await("fio is running").atMost(WAIT).until(() -> server.nbd().connectionCount() > 0);
            CommandResult top = FaultdiskCli.run(
                    "top", "--qmp", "127.0.0.1:" + control.getPort(), "--frames", "1", "--interval", "2s");
            top.assertOk("faultdisk top");
            fio.join().assertOk("fio");
            String row = top.stdout()
                    .lines()
                    .filter(l -> l.startsWith("t0 "))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(top.stdout()));
            String[] cells = row.trim().split("\\s+");
            assertTrue(Double.parseDouble(cells[1]) > 0, "IOPS while fio runs: " + row);
            assertTrue(cells[6].endsWith("ms") && cells[8].endsWith("ms"), "p50 and p99 are shown: " + row);
            assertTrue(top.stdout().contains("fault rules:"), top.stdout());
            assertTrue(
                    top.stdout().lines().anyMatch(l -> l.matches("t0\\s+1\\s+delay\\s+active\\s+[1-9][0-9]*")),
                    "the rule with its fire count: " + top.stdout());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void serveLogsEachConnectionAndItsEndAsJsonLines() throws Exception {
        Tools.require("qemu-io");
        ProcessBuilder pb = new ProcessBuilder(
                FaultdiskCli.command("serve", "--export", "j0=memory:4M", "--nbd", "127.0.0.1:0", "--qmp", "none"));
        pb.environment().put("FAULTDISK_LOG_FORMAT", "json");
        Process serve = pb.start();
        try {
            List<String> stderr = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> {
                try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(serve.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        stderr.add(line);
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
            });
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8));
            String port = null;
            for (String line; (line = out.readLine()) != null && !line.startsWith("Stop with"); ) {
                if (line.startsWith("faultdisk: serving NBD on 127.0.0.1:")) {
                    port = line.substring(line.lastIndexOf(':') + 1);
                }
            }
            QemuIo.run("nbd://127.0.0.1:" + port + "/j0", "write 0 4k").assertOk("qemu-io");
            await("the connection's two log lines")
                    .atMost(WAIT)
                    .until(() -> stderr.stream()
                                    .filter(l -> l.contains("NBD connection"))
                                    .count()
                            >= 2);
            List<Map<String, Object>> lines = stderr.stream()
                    .filter(l -> l.contains("NBD connection"))
                    .map(l -> (Map<String, Object>) Json.parse(l))
                    .toList();
            Map<String, Object> opened = lines.getFirst();
            assertEquals("INFO", opened.get("level"));
            assertEquals("dev.faultdisk.nbd.Connection", opened.get("logger"));
            String message = (String) opened.get("message");
            assertTrue(
                    message.matches("NBD connection 1 from 127\\.0\\.0\\.1:\\d+: export 'j0', structured replies.*GO"),
                    message);
            assertTrue(((String) opened.get("time")).endsWith("Z"), "ISO-8601 UTC: " + opened);
            assertTrue(
                    ((String) lines.get(1).get("message")).endsWith("closed: the client disconnected"),
                    lines.get(1).toString());
            assertTrue(
                    stderr.stream().allMatch(l -> l.startsWith("{") && l.endsWith("}")),
                    "every log line is JSON: " + Arrays.toString(stderr.toArray()));
            serve.destroy();
            drained.get(10, TimeUnit.SECONDS); // stderr ends with the process
        } finally {
            serve.destroy();
            serve.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
