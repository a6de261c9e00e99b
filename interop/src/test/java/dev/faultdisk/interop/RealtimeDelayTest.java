package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -Dfaultdisk.nbd.realtime=true}: the threads that serve a connection's delayed reads
 * (its platform reader and its delay thread) run in the kernel's SCHED_FIFO class, as the kernel
 * reports them in {@code /proc/self/task/TID/stat}; without it they stay in the ordinary one.
 * Needs root (CAP_SYS_NICE) and qemu-io as the client.
 */
class RealtimeDelayTest {
    private static final String SWITCH = "faultdisk.nbd.realtime";
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;
    private static final int DELAY_MS = 400;

    private String before;

    @BeforeEach
    void remember() {
        before = System.getProperty(SWITCH);
    }

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(SWITCH);
        } else {
            System.setProperty(SWITCH, before);
        }
    }

    @Test
    void withTheSwitchTheReaderAndTheDelayThreadRunInTheRealtimeClass(@TempDir Path dir) throws Exception {
        System.setProperty(SWITCH, "true");
        List<Integer> policies = delayedReadPolicies(dir);
        assertEquals(List.of(SCHED_FIFO, SCHED_FIFO), policies, "reader, delay thread");
    }

    @Test
    void withoutItTheyStayInTheOrdinaryClass(@TempDir Path dir) throws Exception {
        System.clearProperty(SWITCH);
        List<Integer> policies = delayedReadPolicies(dir);
        assertEquals(List.of(SCHED_OTHER, SCHED_OTHER), policies, "reader, delay thread");
    }

    /**
     * Sends one read that a rule delays, and while it waits reads the scheduling class of the
     * connection's reader and delay thread; returns both once the read completed correctly.
     */
    private static List<Integer> delayedReadPolicies(Path dir) throws Exception {
        Tools.requireRoot();
        Tools.require("qemu-io");
        Path image = dir.resolve("img.raw");
        Files.write(image, new byte[1 << 20]);
        try (TestServer server = new TestServer("img=" + image)) {
            server.export("img")
                    .faults()
                    .add(List.of(Map.of("type", "delay", "ops", List.of("read"), "ms", DELAY_MS)), "rules");
            Set<Path> earlier = tasks(); // other tests' threads may linger with the same names
            long start = System.nanoTime();
            CompletableFuture<CommandResult> read = QemuIo.start(server.uri("img"), "read -P 0 0 4096");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (thread("nbd-delays-", earlier) != null && thread("nbd-conn-", earlier) != null)
                            || read.isDone());
            List<Integer> policies = new ArrayList<>();
            for (String name : List.of("nbd-conn-", "nbd-delays-")) {
                Path task = thread(name, earlier);
                assertTrue(task != null, "a thread named " + name + "N serves the delayed read");
                policies.add(policy(task));
            }
            assertFalse(read.isDone(), "read while the read still waits out its delay");
            read.get(60, TimeUnit.SECONDS).assertOk("qemu-io read");
            assertTrue(
                    System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(DELAY_MS), "the read waited its delay");
            return policies;
        }
    }

    /** A task of this process, not among {@code earlier}, whose name starts with {@code prefix}; or null. */
    private static Path thread(String prefix, Set<Path> earlier) {
        return tasks().stream()
                .filter(t -> !earlier.contains(t) && name(t).startsWith(prefix))
                .findFirst()
                .orElse(null);
    }

    private static Set<Path> tasks() {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.collect(Collectors.toSet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String name(Path task) {
        try {
            return Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
            return ""; // the thread ended meanwhile
        }
    }

    /** The scheduling policy of {@code task}: field 41 of its stat line (proc(5)). */
    private static int policy(Path task) throws IOException {
        String stat = Files.readString(task.resolve("stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[41 - 3]);
    }
}
