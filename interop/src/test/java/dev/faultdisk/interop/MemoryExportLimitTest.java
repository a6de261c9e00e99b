package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.MemoryCgroup;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.Tools;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A memory export's data lives outside the JVM's direct memory, under {@code serve
 * --memory-limit}: a server whose JVM may hold 64 MiB of direct memory takes three times that
 * from qemu-io, and a write past the limit fails with ENOSPC while the server goes on; trimmed
 * pages' memory goes back and the pages are taken again.
 */
class MemoryExportLimitTest {
    @Test
    void anExportFillsPastTheJvmsDirectMemoryAndALimitReachedAnswersEnospc(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        try (ServeProcess p =
                serve(dir, List.of("-Xmx128m", "-XX:MaxDirectMemorySize=64m"), "--memory-limit", "256M")) {
            String uri = p.uri("d");
            QemuIo.run(uri, "write -P 0x5a 0 192M").assertOk("192 MiB, three times the JVM's direct memory");
            QemuIo.run(uri, "read -P 0x5a 0 192M").assertOk("read back");

            assertNoSpace(uri, "write -P 0x33 512M 128M"); // 64 MiB fit, then the limit

            QemuIo.run(uri, "read -P 0x5a 100M 1M", "write -P 0x44 0 1M", "read -P 0x44 0 1M")
                    .assertOk("the server goes on: what it holds reads back and takes writes");
            assertTrue(p.isAlive());
        }
    }

    /**
     * With a reserve larger than this machine's memory, a write that needs memory fails with
     * ENOSPC, and the server goes on.
     */
    @Test
    void aWriteThatWouldEatIntoTheSystemsReserveFailsWithEnospc(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        try (ServeProcess p = serve(dir, List.of(), "--memory-reserve", "1P")) {
            String uri = p.uri("d");
            assertNoSpace(uri, "write -P 0x5a 0 1M");
            QemuIo.run(uri, "read -P 0 0 1M", "discard 0 1M").assertOk("the server goes on");
            assertTrue(p.isAlive());
        }
    }

    /**
     * In a container with a memory limit (a control group of 768 MiB, where /proc/meminfo shows
     * the host's memory), filling a memory export ends in ENOSPC for the client once the group's
     * room comes down to the reserve, not in the OOM killer ending the server: what was written
     * reads back and the server goes on.
     */
    @Test
    void inAContainerWithAMemoryLimitFillingAnExportEndsInEnospcNotTheOomKiller(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        try (MemoryCgroup group = MemoryCgroup.create(768L << 20)) {
            try (ServeProcess p = ServeProcess.startUnder(
                    group.wrapper(),
                    dir.resolve("serve.log"),
                    "--export",
                    "d=memory:2G",
                    "--nbd",
                    "127.0.0.1:0",
                    "--qmp",
                    "none")) {
                String uri = p.uri("d");
                assertNoSpace(uri, "write -P 0x5a 0 1G"); // more than the group holds
                assertTrue(p.isAlive(), "the server lives");
                QemuIo.run(uri, "read -P 0x5a 0 64M", "discard 0 64M", "write -P 0x22 0 1M", "read -P 0x22 0 1M")
                        .assertOk("what was written reads back, and trimmed pages take writes");
                assertEquals(0, group.oomKills(), "processes the OOM killer killed in the group");
            }
        }
    }

    /**
     * Trimmed pages' memory goes back to the system, and the pages are taken again (made a run at
     * a time) for later writes: 48 MiB written, trimmed and written elsewhere twice fit a limit of
     * 64 MiB, the resident memory falling with the trim and rising with the writes.
     */
    @Test
    void trimmedPagesGoBackToTheSystemAndAreTakenAgainUnderTheLimit(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        try (ServeProcess p = serve(dir, List.of(), "--memory-limit", "64M")) {
            String uri = p.uri("d");
            QemuIo.run(uri, "write -P 0x11 0 48M").assertOk("48 MiB");
            long full = p.rssKib();
            QemuIo.run(uri, "discard 0 48M").assertOk("trimmed");
            long trimmed = p.rssKib();
            assertTrue(full - trimmed > 32 * 1024, "resident " + full + " KiB, after the trim " + trimmed);
            QemuIo.run(uri, "write -P 0x22 256M 48M", "discard 256M 16M", "write -P 0x33 512M 16M")
                    .assertOk("96 MiB more under a limit of 64: the trimmed pages taken again");
            long rewritten = p.rssKib();
            assertTrue(
                    rewritten - trimmed > 32 * 1024,
                    "resident after the trim " + trimmed + " KiB, rewritten " + rewritten);
            QemuIo.run(uri, "read -P 0 0 48M", "read -P 0 256M 16M", "read -P 0x22 272M 32M", "read -P 0x33 512M 16M")
                    .assertOk("each range reads back as written or trimmed");
            assertTrue(p.isAlive());
        }
    }

    /** Runs qemu-io's {@code command} on {@code uri}, which must fail with ENOSPC. */
    private static void assertNoSpace(String uri, String command) throws Exception {
        CommandResult refused = QemuIo.run(uri, command);
        String said = refused.stdout() + refused.stderr();
        assertTrue(said.contains("No space left on device"), "qemu-io: " + said);
    }

    /** A server process with a 1 GiB memory export {@code d}, under {@code jvmOptions} and one more option. */
    private static ServeProcess serve(Path dir, List<String> jvmOptions, String option, String value) throws Exception {
        return ServeProcess.startWithJvm(
                jvmOptions,
                dir.resolve("serve.log"),
                "--export",
                "d=memory:1G",
                "--nbd",
                "127.0.0.1:0",
                "--qmp",
                "none",
                option,
                value);
    }
}
