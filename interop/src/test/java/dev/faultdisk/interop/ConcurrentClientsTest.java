package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Different clients on different exports at the same time, each with its own data, all succeed;
 * a client killed in the middle of its work disturbs no one else.
 */
class ConcurrentClientsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Duration AWAIT = Duration.ofSeconds(20);

    @Test
    void twoQemuIoAndFioAndNbdinfoAtOnce(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io", "nbdinfo", "fio");
        try (TestServer server = new TestServer(
                "a=memory:32M",
                TestServer.spec("b", "file", dir, "32M"),
                TestServer.spec("c", "memory-offreader", dir, "32M"))) {
            List<Step> steps = List.of(
                    // Each qemu-io holds its connection across a pause between writing and reading,
                    // so the clients overlap.
                    new Step("qemu-io a", () -> patterns(server.uri("a"), 0x1a)),
                    new Step("qemu-io b", () -> patterns(server.uri("b"), 0x2b)),
                    new Step(
                            "fio c",
                            () -> Fio.run(
                                    server.uri("c"),
                                    List.of(
                                            "--rw=randwrite",
                                            "--bs=4k",
                                            "--iodepth=16",
                                            "--size=4M",
                                            "--numjobs=4",
                                            "--offset_increment=4M",
                                            "--verify=crc32c",
                                            "--do_verify=1",
                                            "--verify_fatal=1",
                                            "--verify_state_save=0",
                                            "--group_reporting"))),
                    new Step("nbdinfo --list", () -> Command.run(TIMEOUT, "nbdinfo", "--list", server.uri(""))));

            AtomicInteger peak = new AtomicInteger();
            List<Future<CommandResult>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(steps.size())) {
                for (Step step : steps) {
                    results.add(pool.submit(step.run()::call));
                }
                // Record how many connections were open at once while the clients ran.
                await("the clients to finish")
                        .atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(5))
                        .until(() -> {
                            peak.accumulateAndGet(server.server().connectionCount(), Math::max);
                            return results.stream().allMatch(Future::isDone);
                        });
            }
            for (int i = 0; i < steps.size(); i++) {
                CommandResult r = results.get(i).get();
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
            assertTrue(peak.get() >= 2, "peak concurrent connections " + peak);
            // Each export kept its own data: a fresh client sees exactly what its writer wrote.
            QemuIo.run(server.uri("a"), "read -P 0x1a 0 1M", "read -P 0x21 7M 1M")
                    .assertOk("re-read a");
            QemuIo.run(server.uri("b"), "read -P 0x2b 0 1M", "read -P 0x32 7M 1M")
                    .assertOk("re-read b");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void clientKilledMidRunDisturbsNoOne(String backend, @TempDir Path dir) throws Exception {
        Tools.require("qemu-io", "fio");
        try (TestServer server = new TestServer(TestServer.spec("a", backend, dir, "32M"), "b=memory:8M")) {
            // A bystander on another export, connected across the kill.
            ExecutorService pool = Executors.newSingleThreadExecutor();
            Future<CommandResult> bystander;
            Process fio = null;
            try {
                bystander = pool.submit(
                        () -> QemuIo.run(server.uri("b"), "write -P 0x42 0 1M", "sleep 1500", "read -P 0x42 0 1M"));
                // --thread: the job runs in this process, not in a forked child the kill would miss.
                fio = new ProcessBuilder(
                                "fio",
                                "--name=k",
                                "--thread",
                                "--ioengine=nbd",
                                "--uri=" + server.uri("a"),
                                "--rw=randrw",
                                "--bsrange=4k-1M",
                                "--iodepth=32",
                                "--size=32M",
                                "--time_based",
                                "--runtime=30")
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
                Export a = server.export("a");
                await("fio's writes to reach the server")
                        .atMost(AWAIT)
                        .until(() -> a.stats().ops(BlockOp.WRITE) > 200);
                fio.destroyForcibly(); // SIGKILL: requests in flight, payloads possibly cut short
                assertTrue(fio.waitFor(10, TimeUnit.SECONDS));
                CommandResult b = bystander.get(60, TimeUnit.SECONDS);
                b.assertOk("qemu-io on another export across the kill");
                assertEquals(
                        List.of("wrote 1048576/1048576 bytes at offset 0", "read 1048576/1048576 bytes at offset 0"),
                        QemuIo.reports(b.stdout()));
            } finally {
                if (fio != null) {
                    fio.destroyForcibly();
                }
                pool.shutdownNow();
            }
            await("the killed client's connection to close")
                    .atMost(AWAIT)
                    .until(() -> server.server().connectionCount() == 0);
            // The export the killed client used serves a new client normally.
            CommandResult after = QemuIo.run(server.uri("a"), "write -P 0x24 513 70000", "read -P 0x24 513 70000")
                    .assertOk("qemu-io on the export after the kill");
            assertEquals(
                    List.of("wrote 70000/70000 bytes at offset 513", "read 70000/70000 bytes at offset 513"),
                    QemuIo.reports(after.stdout()));
        }
    }

    private record Step(String name, Call run) {}

    private interface Call {
        CommandResult call() throws Exception;
    }

    /** Eight 1 MiB patterns starting at {@code first}, a pause, then all read back. */
    private static CommandResult patterns(String uri, int first) {
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
