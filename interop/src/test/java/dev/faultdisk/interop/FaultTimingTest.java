package dev.faultdisk.interop;

import dev.faultdisk.fault.VirtualTime;
import dev.faultdisk.wire.json.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Delays, throttles and presets as fio and qemu-io measure them; flush errors as nbdcopy sees them. */
class FaultTimingTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    /** fio's read figures: IOPS and completion latency p50 and p99 in milliseconds. */
    private record Measured(double iops, double p50, double p99) {
    }

    @SuppressWarnings("unchecked")
    private static Measured fio(String uri, int depth, int seconds) {
        Tools.Result r = Tools.run(TIMEOUT, "fio", "--name=t", "--ioengine=nbd", "--uri=" + uri, "--rw=randread",
                "--bs=4k", "--iodepth=" + depth, "--size=8M", "--time_based", "--runtime=" + seconds,
                "--output-format=json").assertOk("fio");
        String json = r.stdout().substring(r.stdout().indexOf('{'));
        Map<String, Object> read = (Map<String, Object>) ((Map<String, Object>) ((List<Object>) ((Map<String, Object>)
                Json.parse(json)).get("jobs")).getFirst()).get("read");
        Map<String, Object> percentiles = (Map<String, Object>) ((Map<String, Object>) read.get("clat_ns")).get("percentile");
        return new Measured(((Number) read.get("iops")).doubleValue(),
                ((Number) percentiles.get("50.000000")).doubleValue() / 1e6,
                ((Number) percentiles.get("99.000000")).doubleValue() / 1e6);
    }

    @Test
    void readDelayShowsInFiosLatencyAndWritesAreNotDelayed() throws Exception {
        Tools.require("fio");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"delay\", \"ops\": [\"read\"], \"ms\": 10}]");
            Measured m = fio(s.uri("d"), 1, 2);
            assertTrue(m.p50 >= 10 && m.p50 < 15, "p50 " + m.p50 + " ms for a 10 ms delay");
            assertTrue(m.iops > 40 && m.iops <= 100, "at most 100 reads/s at queue depth 1: " + m.iops);
            long start = System.nanoTime();
            QemuIo.run(s.uri("d"), "write 0 64k").assertOk("writes");
            assertTrue(System.nanoTime() - start < 5_000_000_000L);
        }
    }

    @Test
    void throttleCapsOperationsPerSecond() throws Exception {
        Tools.require("fio");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"throttle\", \"ops\": [\"read\"], \"ops-per-second\": 200, \"burst-ops\": 10}]");
            Measured m = fio(s.uri("d"), 8, 3);
            assertTrue(m.iops > 150 && m.iops < 240, "about 200 reads/s: " + m.iops);
        }
    }

    @Test
    void limpingDiskPresetHasTheHeavyTailItWasGiven() throws Exception {
        Tools.require("fio");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            Map<String, Object> added = s.qmp.ok("{\"execute\": \"fault-preset\", \"arguments\": {\"device\": \"d\", "
                    + "\"preset\": \"limping-disk\", \"params\": {\"median-ms\": 4, \"p99-ms\": 40, \"seed\": 3}}}");
            assertEquals(List.of(1L), added.get("ids"));
            Measured m = fio(s.uri("d"), 4, 3);
            assertTrue(m.p50 > 3 && m.p50 < 8, "median " + m.p50);
            assertTrue(m.p99 > 20 && m.p99 < 80, "p99 " + m.p99);
        }
    }

    @Test
    void flakyDiskPresetOnVirtualTime() throws Exception {
        Tools.require("qemu-io");
        VirtualTime time = VirtualTime.manual(Instant.parse("2030-01-01T00:00:00Z"));
        try (FaultServer s = new FaultServer("d=memory:16M", time.faultTime())) {
            s.qmp.ok("{\"execute\": \"fault-preset\", \"arguments\": {\"device\": \"d\", \"preset\": \"flaky-disk\", "
                    + "\"params\": {\"up-ms\": 1000, \"down-ms\": 500}}}");
            QemuIo.run(s.uri("d"), "read 0 4k").assertOk("up");
            time.advance(Duration.ofMillis(1000));
            assertEquals(List.of("read failed: Input/output error"), QemuIo.reports(QemuIo.run(s.uri("d"), "read 0 4k").stdout()));
            time.advance(Duration.ofMillis(500));
            QemuIo.run(s.uri("d"), "read 0 4k").assertOk("up again");
        }
    }

    @Test
    void flushErrorReachesNbdcopy(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Tools.require("nbdcopy");
        Path source = dir.resolve("src.img");
        Files.write(source, new byte[1 << 20]);
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"error\", \"ops\": [\"flush\"], \"errno\": \"EIO\"}]");
            Tools.Result r = Tools.run(TIMEOUT, "nbdcopy", "--flush", source.toString(), s.uri("d"));
            assertEquals(1, r.exit(), r.stderr());
            assertTrue(r.stderr().contains("flush: command failed: Input/output error"), r.stderr());
            Map<String, Object> e = s.qmp.awaitEvent("FAULT_INJECTED");
            assertEquals("flush", e.get("operation"));
            s.qmp.clearFaults("d");
            Tools.run(TIMEOUT, "nbdcopy", "--flush", source.toString(), s.uri("d")).assertOk("without the rule");
        }
    }
}
