package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The room a container's memory limit leaves, read from control-group trees laid out as the
 * kernel shows them (v2 and v1's memory controller), so that the system's reserve holds in a
 * container whose /proc/meminfo is the host's.
 */
class CgroupMemoryTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void v2TheLeastRoomOfTheGroupAndItsAncestorsWithInactivePageCacheCountedAsRoom() throws IOException {
        Path root = dir.resolve("cgroup");
        Files.createDirectories(root);
        Files.writeString(root.resolve("cgroup.controllers"), "cpu memory pids\n");
        v2(root.resolve("ci"), Long.toString(1024 * MIB), 900 * MIB, 50 * MIB);
        v2(root.resolve("ci/job"), "max", 700 * MIB, 10 * MIB);
        assertEquals(174 * MIB, memory("0::/ci/job\n", root).available(), "1024 - 900 + 50 in ci; job has no limit");
        v2(root.resolve("ci/job"), Long.toString(720 * MIB), 700 * MIB, 10 * MIB);
        assertEquals(30 * MIB, memory("0::/ci/job\n", root).available(), "720 - 700 + 10 in job, the lesser");
    }

    @Test
    void v2AContainersOwnGroupMountedAsTheRoot() throws IOException {
        Path root = dir.resolve("cgroup");
        v2(root, Long.toString(512 * MIB), 500 * MIB, 0);
        Files.writeString(root.resolve("cgroup.controllers"), "memory\n");
        assertEquals(12 * MIB, memory("0::/\n", root).available());
        // The host's path for it, which this mount does not show: the root is the group.
        assertEquals(12 * MIB, memory("0::/system.slice/docker-1.scope\n", root).available());
    }

    @Test
    void v1TheMemoryControllersGroupOnAHybridSystem() throws IOException {
        Path root = dir.resolve("cgroup");
        Path memory = root.resolve("memory");
        v1(memory, 9223372036854771712L, 3000 * MIB, 0); // the root: no limit
        v1(memory.resolve("docker/abc"), 2048 * MIB, 2000 * MIB, 16 * MIB);
        Files.createDirectories(root.resolve("unified"));
        String membership = "12:pids:/docker/abc\n4:memory:/docker/abc\n0::/docker/abc\n";
        assertEquals(64 * MIB, memory(membership, root).available(), "2048 - 2000 + 16");
    }

    @Test
    void noLimitAnywhereOrNothingToReadIsNoLimit() throws IOException {
        Path root = dir.resolve("cgroup");
        Files.createDirectories(root);
        Files.writeString(root.resolve("cgroup.controllers"), "memory\n");
        v2(root.resolve("a"), "max", 100 * MIB, 0);
        assertEquals(-1, memory("0::/a\n", root).available());
        assertEquals(-1, new CgroupMemory(dir.resolve("absent"), root).available(), "no /proc/self/cgroup");
        v1(root.resolve("memory"), 9223372036854771712L, 100 * MIB, 0);
        assertEquals(-1, memory("4:memory:/\n", root).available());
    }

    @Test
    void aPathLeadingOutOfTheHierarchyReadsItsRootAndAMalformedFileNothing() throws IOException {
        Path root = dir.resolve("cgroup");
        v2(root, Long.toString(256 * MIB), 200 * MIB, 0);
        Files.writeString(root.resolve("cgroup.controllers"), "memory\n");
        v2(dir.resolve("outside"), Long.toString(MIB), MIB, 0);
        assertEquals(56 * MIB, memory("0::/../outside\n", root).available());
        Files.writeString(root.resolve("memory.current"), "lots\n");
        assertEquals(-1, memory("0::/\n", root).available());
    }

    @Test
    void theReserveGoesByTheLessOfTheSystemAndTheGroupLessTheHeapsRoomToGrow() {
        assertEquals(900 * MIB, SystemReserve.available(900 * MIB, -1, 500 * MIB), "no group: the system's");
        assertEquals(300 * MIB, SystemReserve.available(900 * MIB, 450 * MIB, 150 * MIB), "450 in the group, 150 heap");
        assertEquals(200 * MIB, SystemReserve.available(200 * MIB, 450 * MIB, 150 * MIB), "the system's is less");
        assertEquals(0, SystemReserve.available(900 * MIB, 100 * MIB, 150 * MIB), "the heap may take all the room");
        assertEquals(300 * MIB, SystemReserve.available(-1, 300 * MIB, 0), "no MemAvailable");
        assertEquals(-1, SystemReserve.available(-1, -1, 0), "neither says");
    }

    private CgroupMemory memory(String membership, Path root) throws IOException {
        Path file = Files.createTempFile(dir, "cgroup", "");
        Files.writeString(file, membership);
        return new CgroupMemory(file, root);
    }

    private static void v2(Path group, String max, long current, long inactiveFile) throws IOException {
        Files.createDirectories(group);
        Files.writeString(group.resolve("memory.max"), max + "\n");
        Files.writeString(group.resolve("memory.current"), current + "\n");
        Files.writeString(
                group.resolve("memory.stat"), "anon 1\nfile 2\ninactive_anon 3\ninactive_file " + inactiveFile + "\n");
    }

    private static void v1(Path group, long limit, long usage, long inactiveFile) throws IOException {
        Files.createDirectories(group);
        Files.writeString(group.resolve("memory.limit_in_bytes"), limit + "\n");
        Files.writeString(group.resolve("memory.usage_in_bytes"), usage + "\n");
        Files.writeString(
                group.resolve("memory.stat"),
                "cache 5\ninactive_file 1\ntotal_cache 6\ntotal_inactive_file " + inactiveFile + "\n");
    }
}
