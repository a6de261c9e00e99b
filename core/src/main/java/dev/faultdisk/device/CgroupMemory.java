package dev.faultdisk.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The memory this process's control group still lets it have: in a container, what the OOM
 * killer goes by, where /proc/meminfo's MemAvailable is the host's. For each group from the
 * process's up to the hierarchy's root that has a limit: the limit less what it uses, plus its
 * inactive page cache (reclaimed before the limit bites; the measure Kubernetes evicts by);
 * the least of those, or -1 where no group has a limit. Control groups v2 (memory.max,
 * memory.current, memory.stat's inactive_file) and v1's memory controller (memory.limit_in_bytes,
 * memory.usage_in_bytes, total_inactive_file), found from /proc/self/cgroup; where a container
 * mounts its own group as the root, the root is read.
 */
final class CgroupMemory {
    /** v1 reports no limit as a number near 2^63 (rounded down to a page). */
    private static final long V1_NO_LIMIT = 1L << 62;

    private static final CgroupMemory PROCESS =
            new CgroupMemory(Path.of("/proc/self/cgroup"), Path.of("/sys/fs/cgroup"));

    private final Path membership;
    private final Path root;

    /** From {@code membership} (the format of /proc/self/cgroup) and groups mounted under {@code root}. */
    CgroupMemory(Path membership, Path root) {
        this.membership = membership;
        this.root = root;
    }

    static CgroupMemory process() {
        return PROCESS;
    }

    /** Bytes the control groups still give this process, or -1 where none limits it (or none can be read). */
    long available() {
        try {
            List<String> lines = Files.readAllLines(membership);
            for (String line : lines) { // v1's memory controller first: a hybrid system has both
                String[] f = line.split(":", 3);
                if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
                    return least(root.resolve("memory"), f[2], false);
                }
            }
            for (String line : lines) {
                if (line.startsWith("0::") && Files.exists(root.resolve("cgroup.controllers"))) {
                    return least(root, line.substring(3), true);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, no control groups, or a file not as expected: no limit known
        }
        return -1;
    }

    /** The least room over the group at {@code path} below {@code base} and its ancestors. */
    private static long least(Path base, String path, boolean v2) throws IOException {
        Path group = base.resolve(path.replaceFirst("^/+", "")).normalize();
        if (!group.startsWith(base) || !Files.isDirectory(group)) {
            group = base; // the container's own group mounted as the root
        }
        long least = -1;
        for (Path g = group; g != null && g.startsWith(base); g = g.getParent()) {
            long room = v2 ? roomV2(g) : roomV1(g);
            if (room >= 0 && (least < 0 || room < least)) {
                least = room;
            }
        }
        return least;
    }

    private static long roomV2(Path g) throws IOException {
        Path max = g.resolve("memory.max");
        if (!Files.exists(max)) {
            return -1; // the root has no limit files
        }
        String limit = Files.readString(max).strip();
        if (limit.equals("max")) {
            return -1;
        }
        return room(Long.parseLong(limit), number(g.resolve("memory.current")), stat(g, "inactive_file"));
    }

    private static long roomV1(Path g) throws IOException {
        Path max = g.resolve("memory.limit_in_bytes");
        if (!Files.exists(max)) {
            return -1;
        }
        long limit = number(max);
        if (limit >= V1_NO_LIMIT) {
            return -1;
        }
        return room(limit, number(g.resolve("memory.usage_in_bytes")), stat(g, "total_inactive_file"));
    }

    private static long room(long limit, long usage, long inactiveFile) {
        return Math.max(0, limit - usage + Math.max(0, inactiveFile));
    }

    private static long number(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).strip());
    }

    /** A memory.stat entry, or 0 where it has none. */
    private static long stat(Path g, String key) throws IOException {
        Path file = g.resolve("memory.stat");
        if (!Files.exists(file)) {
            return 0;
        }
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith(key + " ")) {
                return Long.parseLong(line.substring(key.length() + 1).strip());
            }
        }
        return 0;
    }
}
