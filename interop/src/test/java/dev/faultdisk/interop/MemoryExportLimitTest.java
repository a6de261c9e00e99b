package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.CommandResult;
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
 * from qemu-io, and a write past the limit fails with ENOSPC while the server goes on.
 */
class MemoryExportLimitTest {
    @Test
    void anExportFillsPastTheJvmsDirectMemoryAndALimitReachedAnswersEnospc(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        try (ServeProcess p = ServeProcess.startWithJvm(
                List.of("-Xmx128m", "-XX:MaxDirectMemorySize=64m"),
                dir.resolve("serve.log"),
                "--export",
                "d=memory:1G",
                "--nbd",
                "127.0.0.1:0",
                "--qmp",
                "none",
                "--memory-limit",
                "256M")) {
            String uri = p.uri("d");
            QemuIo.run(uri, "write -P 0x5a 0 192M").assertOk("192 MiB, three times the JVM's direct memory");
            QemuIo.run(uri, "read -P 0x5a 0 192M").assertOk("read back");

            CommandResult past = QemuIo.run(uri, "write -P 0x33 512M 128M"); // 64 MiB fit, then the limit
            String said = past.stdout() + past.stderr();
            assertTrue(said.contains("No space left on device"), "qemu-io: " + said);

            QemuIo.run(uri, "read -P 0x5a 100M 1M", "write -P 0x44 0 1M", "read -P 0x44 0 1M")
                    .assertOk("the server goes on: what it holds reads back and takes writes");
            assertTrue(p.isAlive());
        }
    }
}
