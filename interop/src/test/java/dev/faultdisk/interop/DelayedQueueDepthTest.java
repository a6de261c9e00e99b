package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.wire.json.Json;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fio at queue depth 64 against a 1 ms read delay: the delayed reads wait on the fault clock's
 * timer, not each on a thread of its own. Asserted with what load cannot break: no thread of the
 * server is ever found waiting out a delay (thread dumps, virtual threads included, taken while
 * fio runs; the same test with each delayed read on a virtual thread of its own found up to 59),
 * no read comes back sooner than its delay, every read succeeds and was delayed. Throughput and
 * latency against nbdkit are measured by bench/compare.sh (docs/BENCHMARKS.md): in a 3 s test
 * on a loaded machine they fall to a few hundred reads a second, so none is asserted here.
 */
class DelayedQueueDepthTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @Test
    @SuppressWarnings("unchecked")
    void fioAtQueueDepth64AgainstA1msDelayHoldsNoThreadPerRead(@TempDir Path dir) throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                        .export("d=memory:16M")
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .nbdOptions(NbdServer.Options.defaults().withMaxInFlight(64))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .start();
                FaultdiskClient fd =
                        FaultdiskClient.connect(server.qmpAddresses().getFirst(), TIMEOUT)) {
            String uri = "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/d";
            fd.faultAdd("d", FaultRule.delay().ops("read").with("ms", 1));
            CompletableFuture<CommandResult> fio = CompletableFuture.supplyAsync(() -> Fio.run(
                    uri,
                    List.of(
                            "--rw=randread",
                            "--bs=4k",
                            "--iodepth=64",
                            "--size=8M",
                            "--time_based",
                            "--runtime=3",
                            "--output-format=json")));
            List<Integer> waitingInDelay = new ArrayList<>();
            Path dump = dir.resolve("threads.json");
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> {
                waitingInDelay.add(threadsWaitingOutADelay(dump));
                return fio.isDone();
            });
            int dumps = waitingInDelay.size();
            CommandResult r = fio.join().assertOk("fio");
            Map<String, Object> job = (Map<String, Object>) ((List<Object>) ((Map<String, Object>)
                                    Json.parse(r.stdout().substring(r.stdout().indexOf('{'))))
                            .get("jobs"))
                    .getFirst();
            Map<String, Object> read = (Map<String, Object>) job.get("read");
            long ios = ((Number) read.get("total_ios")).longValue();
            double minLatencyMs = ((Number) ((Map<String, Object>) read.get("lat_ns")).get("min")).doubleValue() / 1e6;

            assertEquals(0, ((Number) job.get("error")).intValue(), "fio saw no error");
            assertTrue(dumps >= 2, "thread dumps taken while fio ran: " + dumps);
            assertTrue(
                    waitingInDelay.stream().allMatch(n -> n == 0),
                    "threads found waiting out a delay, per dump: " + waitingInDelay);
            assertTrue(minLatencyMs >= 1.0, "a read came back " + minLatencyMs + " ms after it was sent");
            assertTrue(fd.queryFaults("d").getFirst().fired() >= ios, "every read fio counted was delayed: " + ios);
        }
    }

    /** Dumps every thread of this JVM, virtual ones included, and counts those inside a delay's wait. */
    private static int threadsWaitingOutADelay(Path file) throws Exception {
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
        String dump = Files.readString(file);
        Files.delete(file);
        int n = 0;
        for (int at = dump.indexOf("FaultEngine.sleepUntil");
                at >= 0;
                at = dump.indexOf("FaultEngine.sleepUntil", at + 1)) {
            n++;
        }
        return n;
    }
}
