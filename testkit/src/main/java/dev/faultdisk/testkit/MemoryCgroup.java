package dev.faultdisk.testkit;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * A control group with a memory limit, as a container has, for a process started in it ({@link
 * #wrapper()}): v1's memory controller where the system mounts it, else v2's unified hierarchy.
 * Needs root and a writable hierarchy; where it cannot be made the test is skipped, saying why
 * (a container may show its control groups read-only). Removed on close, once its processes
 * have gone.
 */
public final class MemoryCgroup implements AutoCloseable {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final AtomicInteger MADE = new AtomicInteger();

    private final Path dir;
    private final boolean v1;

    private MemoryCgroup(Path dir, boolean v1) {
        this.dir = dir;
        this.v1 = v1;
    }

    /** A new group limited to {@code limitBytes}, or the test skipped visibly where none can be made. */
    public static MemoryCgroup create(long limitBytes) {
        Tools.requireRoot();
        String name = "faultdisk-test-" + ProcessHandle.current().pid() + "-" + MADE.incrementAndGet();
        Path v1 = ROOT.resolve("memory");
        boolean isV1 = Files.exists(v1.resolve("memory.limit_in_bytes"));
        Path dir = isV1 ? v1.resolve(name) : ROOT.resolve(name);
        try {
            if (!isV1) {
                String controllers = Files.readString(ROOT.resolve("cgroup.subtree_control"));
                if (!controllers.contains("memory")) {
                    Files.writeString(ROOT.resolve("cgroup.subtree_control"), "+memory");
                }
            }
            Files.createDirectory(dir);
            Files.writeString(dir.resolve(isV1 ? "memory.limit_in_bytes" : "memory.max"), Long.toString(limitBytes));
        } catch (IOException | RuntimeException e) {
            String why = "no memory control group can be made under " + ROOT + " (" + e + ")";
            System.err.println("SKIPPED (visible): " + why);
            try {
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // nothing was made
            }
            Assumptions.abort(why);
        }
        return new MemoryCgroup(dir, isV1);
    }

    /** A command prefix that runs the rest of its line inside the group. */
    public List<String> wrapper() {
        return List.of("sh", "-c", "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"", "sh");
    }

    /** Processes of the group the OOM killer has killed. */
    public long oomKills() throws IOException {
        for (String line : Files.readAllLines(dir.resolve(v1 ? "memory.oom_control" : "memory.events"))) {
            if (line.startsWith("oom_kill ")) {
                return Long.parseLong(line.substring("oom_kill ".length()).strip());
            }
        }
        return 0;
    }

    /** Removes the group, waiting up to 10 s for its processes to end (rmdir fails while any is left). */
    @Override
    public void close() {
        await("control group " + dir + " removed")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptionsInstanceOf(IOException.class) // EBUSY while a process is left
                .until(() -> {
                    Files.deleteIfExists(dir);
                    return true;
                });
    }
}
