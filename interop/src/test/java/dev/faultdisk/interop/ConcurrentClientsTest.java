package dev.faultdisk.interop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Different clients on different exports at the same time, each with its own data, all succeed. */
class ConcurrentClientsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void twoQemuIoAndFioAndNbdinfoAtOnce(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io", "nbdinfo", "fio");
        try (TestServer server = new TestServer("a=memory:32M", TestServer.spec("b", "file", dir, "32M"),
                "c=memory:32M")) {
            List<Step> steps = List.of(
                    // Each qemu-io holds its connection across a pause between writing and reading,
                    // so the clients overlap.
                    new Step("qemu-io a", () -> patterns(server.uri("a"), 0x1a)),
                    new Step("qemu-io b", () -> patterns(server.uri("b"), 0x2b)),
                    new Step("fio c", () -> Tools.run(TIMEOUT, "fio", "--name=c", "--ioengine=nbd",
                            "--uri=" + server.uri("c"), "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=4M",
                            "--numjobs=4", "--offset_increment=4M", "--verify=crc32c", "--do_verify=1",
                            "--verify_fatal=1", "--verify_state_save=0", "--group_reporting")),
                    new Step("nbdinfo --list", () -> Tools.run(TIMEOUT, "nbdinfo", "--list", server.uri(""))));

            int peak = 0;
            List<Future<Tools.Result>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(steps.size())) {
                for (Step step : steps) {
                    results.add(pool.submit(step.run()::call));
                }
                // Record how many connections were open at once while the clients ran.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (!results.stream().allMatch(Future::isDone) && System.nanoTime() < deadline) {
                    peak = Math.max(peak, server.server().connectionCount());
                    Thread.sleep(5);
                }
            }
            for (int i = 0; i < steps.size(); i++) {
                Tools.Result r = results.get(i).get();
                r.assertOk(steps.get(i).name());
                if (steps.get(i).name().startsWith("qemu-io")) {
                    assertEquals(16, QemuIo.reports(r.stdout()).size(), r.stdout());
                }
                if (steps.get(i).name().startsWith("nbdinfo")) {
                    assertTrue(r.stdout().contains("export=\"a\"") && r.stdout().contains("export=\"c\""), r.stdout());
                }
            }
            // The two qemu-io pause for a second with their connections open, so they overlap
            // for certain; fio's four connections and nbdinfo usually add to the peak.
            assertTrue(peak >= 2, "peak concurrent connections " + peak);
            // Each export kept its own data: a fresh client sees exactly what its writer wrote.
            QemuIo.run(server.uri("a"), "read -P 0x1a 0 1M", "read -P 0x21 7M 1M").assertOk("re-read a");
            QemuIo.run(server.uri("b"), "read -P 0x2b 0 1M", "read -P 0x32 7M 1M").assertOk("re-read b");
        }
    }

    private record Step(String name, Call run) {
    }

    private interface Call {
        Tools.Result call() throws Exception;
    }

    /** Eight 1 MiB patterns starting at {@code first}, a pause, then all read back. */
    private static Tools.Result patterns(String uri, int first) {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            commands.add("write -P " + (first + i) + " " + i + "M 1M");
        }
        commands.add("sleep 1000");
        for (int i = 0; i < 8; i++) {
            commands.add("read -P " + (first + i) + " " + i + "M 1M");
        }
        return QemuIo.run(uri, commands.toArray(String[]::new));
    }
}
