package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.fault.VirtualTime;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delays, throttles and presets as fio and qemu-io measure them; flush errors as nbdcopy sees them.
 * On wall-clock time only the bounds a loaded 2-core machine cannot break are asserted (a delay
 * never makes a read faster, a throttle never lets more through); how close the figures come to
 * the asked ones is measured by bench/fault-timing.sh (docs/BENCHMARKS.md, "Fault timing").
 */
@Faultdisk(exports = "d=memory:16M")
class FaultTimingTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    /** fio's read figures: IOPS and completion latency p50 and p99 in milliseconds. */
    private record Measured(double iops, double p50, double p99) {}

    @SuppressWarnings("unchecked")
    private static Measured randomReads(String uri, int depth, int seconds) {
        CommandResult r = Fio.run(
                        uri,
                        List.of(
                                "--rw=randread",
                                "--bs=4k",
                                "--iodepth=" + depth,
                                "--size=8M",
                                "--time_based",
                                "--runtime=" + seconds,
                                "--output-format=json"))
                .assertOk("fio");
        String json = r.stdout().substring(r.stdout().indexOf('{'));
        Map<String, Object> read = (Map<String, Object>) ((Map<String, Object>)
                        ((List<Object>) ((Map<String, Object>) Json.parse(json)).get("jobs")).getFirst())
                .get("read");
        Map<String, Object> percentiles =
                (Map<String, Object>) ((Map<String, Object>) read.get("clat_ns")).get("percentile");
        return new Measured(
                ((Number) read.get("iops")).doubleValue(),
                ((Number) percentiles.get("50.000000")).doubleValue() / 1e6,
                ((Number) percentiles.get("99.000000")).doubleValue() / 1e6);
    }

    @Test
    void readDelayShowsInFiosLatencyAndWritesAreNotDelayed(FaultdiskClient fd, @ExportUri("d") String uri) {
        fd.faultAdd("d", FaultRule.delay().ops("read").with("ms", 10));
        Measured m = randomReads(uri, 1, 2);
        assertTrue(m.p50 >= 10, "p50 " + m.p50 + " ms for a 10 ms delay");
        assertTrue(m.iops <= 100, "at most 100 reads/s at queue depth 1: " + m.iops);
        Tools.require("qemu-io");
        long fired = fd.queryFaults("d").getFirst().fired();
        long start = System.nanoTime();
        QemuIo.run(uri, "write 0 64k").assertOk("writes");
        assertTrue(System.nanoTime() - start < 5_000_000_000L);
        assertEquals(fired, fd.queryFaults("d").getFirst().fired(), "the read delay did not touch the write");
    }

    @Test
    void throttleCapsOperationsPerSecond(FaultdiskClient fd, @ExportUri("d") String uri) {
        fd.faultAdd("d", FaultRule.throttle().ops("read").opsPerSecond(200).with("burst-ops", 10));
        Measured m = randomReads(uri, 8, 3);
        assertTrue(m.iops > 0 && m.iops < 240, "at most about 200 reads/s: " + m.iops);
    }

    @Test
    void limpingDiskPresetHasTheHeavyTailItWasGiven(FaultdiskClient fd, @ExportUri("d") String uri) {
        List<Long> added = fd.faultPreset("d", "limping-disk", Map.of("median-ms", 4, "p99-ms", 40, "seed", 3));
        assertEquals(List.of(1L), added);
        Measured m = randomReads(uri, 4, 3);
        assertTrue(m.p50 > 3, "median " + m.p50);
        assertTrue(m.p99 > 20, "p99 " + m.p99);
    }

    @Test
    void flakyDiskPresetOnVirtualTime() throws Exception {
        Tools.require("qemu-io");
        VirtualTime time = VirtualTime.manual(Instant.parse("2030-01-01T00:00:00Z"));
        try (FaultdiskServer server = FaultdiskServer.builder()
                        .export("v=memory:16M")
                        .faultTime(time.faultTime())
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .start();
                FaultdiskClient fd =
                        FaultdiskClient.connect(server.qmpAddresses().getFirst(), TIMEOUT)) {
            String uri = "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/v";
            fd.faultPreset("v", "flaky-disk", Map.of("up-ms", 1000, "down-ms", 500));
            QemuIo.run(uri, "read 0 4k").assertOk("up");
            time.advance(Duration.ofSeconds(1));
            assertEquals(
                    List.of("read failed: Input/output error"),
                    QemuIo.reports(QemuIo.run(uri, "read 0 4k").stdout()));
            time.advance(Duration.ofMillis(500));
            QemuIo.run(uri, "read 0 4k").assertOk("up again");
        }
    }

    @Test
    void flushErrorReachesNbdcopy(FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        Tools.require("nbdcopy");
        Path source = dir.resolve("src.img");
        Files.write(source, new byte[1 << 20]);
        fd.faultAdd("d", FaultRule.error("EIO").ops("flush"));
        CommandResult r = Command.run(TIMEOUT, "nbdcopy", "--flush", source.toString(), uri);
        assertEquals(1, r.exit(), r.stderr());
        assertTrue(r.stderr().contains("flush: command failed: Input/output error"), r.stderr());
        assertEquals("flush", fd.awaitEvent("FAULT_INJECTED", TIMEOUT).data().get("operation"));
        fd.faultClear("d");
        Command.run(TIMEOUT, "nbdcopy", "--flush", source.toString(), uri).assertOk("without the rule");
    }
}
