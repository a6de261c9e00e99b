package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
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
 * How the threads that serve a connection's delayed reads (its platform reader and its delay
 * thread) are scheduled, as the kernel reports it in {@code /proc/self/task/TID/stat} and {@code
 * sched}: by default in the ordinary class with a 100 µs slice (Linux 6.12 or later); with {@code
 * -Dfaultdisk.nbd.realtime=true} in SCHED_FIFO (needs root); with {@code
 * -Dfaultdisk.nbd.sliceMicros=0} as any thread; a server started under {@code nice} keeps its nice
 * value. qemu-io is the client.
 */
class DelaySchedulingTest {
    private static final String REALTIME = "faultdisk.nbd.realtime";
    private static final String SLICE = "faultdisk.nbd.sliceMicros";
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;
    private static final int DELAY_MS = 400;
    private static final Map<String, Object> DELAYED_READS =
            Map.of("type", "delay", "ops", List.of("read"), "ms", DELAY_MS);

    private String realtimeBefore;
    private String sliceBefore;

    @BeforeEach
    void remember() {
        realtimeBefore = System.getProperty(REALTIME);
        sliceBefore = System.getProperty(SLICE);
        System.clearProperty(REALTIME);
        System.clearProperty(SLICE);
    }

    @AfterEach
    void restore() {
        restore(REALTIME, realtimeBefore);
        restore(SLICE, sliceBefore);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void byDefaultTheyAskForAShortSlice(@TempDir Path dir) throws Exception {
        Tools.requireKernelSupport(customSlicesWhyNot());
        for (Path task : delayedReadThreads(dir, t -> slice(t) == 100_000)) {
            assertEquals(SCHED_OTHER, policy(task), task + " stays in the ordinary class");
            assertEquals(100_000, slice(task), task + ": a 100 µs slice");
        }
    }

    @Test
    void withTheRealtimeSwitchTheyRunInSchedFifo(@TempDir Path dir) throws Exception {
        Tools.requireRoot();
        System.setProperty(REALTIME, "true");
        for (Path task : delayedReadThreads(dir, t -> policy(t) == SCHED_FIFO)) {
            assertEquals(SCHED_FIFO, policy(task), task.toString());
        }
    }

    @Test
    void withTheSliceOffTheyAreScheduledAsAnyThread(@TempDir Path dir) throws Exception {
        Tools.requireKernelSupport(customSlicesWhyNot());
        System.setProperty(SLICE, "0");
        for (Path task : delayedReadThreads(dir, t -> true)) {
            assertEquals(SCHED_OTHER, policy(task), task.toString());
            assertNotEquals(100_000, slice(task), task + " keeps the kernel's slice");
        }
    }

    @Test
    void underNiceTheyKeepItsValueAndStillGetTheSlice(@TempDir Path dir) throws Exception {
        Tools.requireKernelSupport(customSlicesWhyNot());
        Tools.require("nice");
        try (ServeProcess server = ServeProcess.startUnder(
                List.of("nice", "-n", "5"),
                dir.resolve("serve.log"),
                "--export",
                "img=" + image(dir),
                "--nbd",
                "127.0.0.1:0",
                "--qmp",
                "127.0.0.1:0")) {
            try (FaultdiskClient qmp = FaultdiskClient.connect(server.qmp())) {
                qmp.execute("fault-add", Map.of("device", "img", "rules", List.of(DELAYED_READS)));
            }
            Path taskDir = Path.of("/proc", Long.toString(server.pid()), "task");
            for (Path task : whileAReadWaits(taskDir, server.uri("img"), dir, t -> slice(t) == 100_000)) {
                assertEquals(5, nice(task), task + " keeps the nice value the server was started with");
                assertEquals(100_000, slice(task), task + ": a 100 µs slice all the same");
            }
        }
    }

    /** What the kernel says of a task (its live files or a copy): checked while a read waits. */
    @FunctionalInterface
    interface TaskCheck {
        boolean test(Path task) throws IOException;
    }

    /**
     * Sends one read that a rule delays to an in-process server and, while it waits, reads what
     * the kernel says of the connection's reader and delay thread into copies under {@code dir};
     * returns those copies once the read completed correctly.
     */
    private static List<Path> delayedReadThreads(Path dir, TaskCheck settled) throws Exception {
        try (TestServer server = new TestServer("img=" + image(dir))) {
            server.export("img").faults().add(List.of(DELAYED_READS), "rules");
            return whileAReadWaits(Path.of("/proc/self/task"), server.uri("img"), dir, settled);
        }
    }

    /** A 1 MiB image of zeroes. */
    private static Path image(Path dir) throws IOException {
        Tools.require("qemu-io");
        return Files.write(dir.resolve("img.raw"), new byte[1 << 20]);
    }

    /**
     * Reads {@code uri} with qemu-io, through the delay rule, and copies the files of the threads
     * under {@code taskDir} (a process's {@code task} directory) newly named for serving it: once each
     * has blocked at least once and is {@code settled}, or when the read is about to end. A thread
     * is named before it runs: one just started (in a process just started, its first native calls
     * still being linked) may not have set its scheduling yet.
     */
    private static List<Path> whileAReadWaits(Path taskDir, String uri, Path dir, TaskCheck settled) throws Exception {
        // Other tests' threads may linger with the same names; a platform reader kept from an
        // earlier connection (named nbd-reader-idle while it waits) may read this one.
        List<String> names = List.of("nbd-conn-", "nbd-delays-");
        Set<Path> earlier = tasks(taskDir).stream()
                .filter(t -> names.stream().anyMatch(name(t)::startsWith))
                .collect(Collectors.toSet());
        long start = System.nanoTime();
        CompletableFuture<CommandResult> read = QemuIo.start(uri, "read -P 0 0 4096");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> (thread(taskDir, "nbd-delays-", earlier) != null
                                && thread(taskDir, "nbd-conn-", earlier) != null)
                        || read.isDone());
        List<Path> tasks = new ArrayList<>();
        for (String name : names) {
            Path task = thread(taskDir, name, earlier);
            assertTrue(task != null, "a thread named " + name + "N serves the delayed read");
            tasks.add(task);
        }
        long giveUp = start + TimeUnit.MILLISECONDS.toNanos(DELAY_MS * 3 / 4);
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> System.nanoTime() - giveUp >= 0 || read.isDone() || allSettled(tasks, settled));
        List<Path> copies = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            Path task = tasks.get(i);
            String name = names.get(i);
            Path copy = Files.createDirectories(dir.resolve(name + task.getFileName()));
            Files.writeString(copy.resolve("stat"), Files.readString(task.resolve("stat")));
            Files.writeString(copy.resolve("sched"), Files.readString(task.resolve("sched")));
            copies.add(copy);
        }
        assertFalse(read.isDone(), "read while the read still waits out its delay");
        read.get(60, TimeUnit.SECONDS).assertOk("qemu-io read");
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(DELAY_MS), "the read waited its delay");
        return copies;
    }

    private static boolean allSettled(List<Path> tasks, TaskCheck settled) throws IOException {
        for (Path task : tasks) {
            if (voluntarySwitches(task) == 0 || !settled.test(task)) {
                return false;
            }
        }
        return true;
    }

    /** How often a task has blocked so far ({@code voluntary_ctxt_switches} of its status). */
    private static long voluntarySwitches(Path task) throws IOException {
        return Files.readAllLines(task.resolve("status")).stream()
                .filter(l -> l.startsWith("voluntary_ctxt_switches:"))
                .map(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip()))
                .findFirst()
                .orElse(0L);
    }

    /** A task under {@code taskDir}, not among {@code earlier}, whose name starts with {@code prefix}; or null. */
    private static Path thread(Path taskDir, String prefix, Set<Path> earlier) {
        return tasks(taskDir).stream()
                .filter(t -> !earlier.contains(t) && name(t).startsWith(prefix))
                .findFirst()
                .orElse(null);
    }

    private static Set<Path> tasks(Path taskDir) {
        try (Stream<Path> tasks = Files.list(taskDir)) {
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

    /** The scheduling policy in a copy of a task's files: field 41 of its stat line (proc(5)). */
    private static int policy(Path task) throws IOException {
        return Integer.parseInt(statField(task, 41));
    }

    /** The nice value in a copy of a task's files: field 19 of its stat line. */
    private static int nice(Path task) throws IOException {
        return Integer.parseInt(statField(task, 19));
    }

    /** Field {@code n} (from 1, as proc(5) counts) of the stat line; the name, field 2, may hold spaces. */
    private static String statField(Path task, int n) throws IOException {
        String stat = Files.readString(task.resolve("stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[n - 3];
    }

    /** The time slice in a copy of a task's sched file, in ns. */
    private static long slice(Path task) throws IOException {
        return Files.readAllLines(task.resolve("sched")).stream()
                .filter(l -> l.startsWith("se.slice"))
                .map(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no se.slice in " + task.resolve("sched")));
    }

    /** Why this kernel cannot give a thread a slice of its own (before 6.12), or null if it can. */
    private static String customSlicesWhyNot() {
        String[] v = System.getProperty("os.version", "0.0").split("[.-]");
        int major = Integer.parseInt(v[0]);
        int minor = v.length > 1 ? Integer.parseInt(v[1]) : 0;
        return major > 6 || (major == 6 && minor >= 12)
                ? null
                : "Linux " + System.getProperty("os.version") + " has no slices of a thread's own (6.12 and later)";
    }
}
