package dev.faultdisk.junit;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.Breakpoint;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.Suspension;
import dev.faultdisk.interop.Tools;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example of docs/JUNIT.md: a real client (qemu-io) against the test's own faultdisk, with a
 * fault armed from the test and a write held at the critical moment.
 */
@Faultdisk(exports = "disk0=memory:64M")
class QemuIoExampleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static Tools.Result qemuIo(String uri, String command) {
        return Tools.run(TIMEOUT, "qemu-io", "-f", "raw", "-c", command, uri);
    }

    @Test
    void aFullDiskFailsOneWriteThenRecovers(FaultdiskClient fd, @ExportUri("disk0") String uri) {
        Tools.require("qemu-io");
        fd.blkdebugSetRules("disk0", BlkdebugRule.injectError("write_aio").errno("ENOSPC").once());

        Tools.Result failed = qemuIo(uri, "write -P 0xab 0 4k");
        assertTrue(failed.stdout().contains("write failed: No space left on device"), failed.stdout());
        assertEquals(1, fd.queryBlockstats("disk0").op("write").errors());

        qemuIo(uri, "write -P 0xab 0 4k").assertOk("second write");
        Tools.Result read = qemuIo(uri, "read -P 0xab 0 4k").assertOk("read back");
        assertFalse(read.stdout().contains("Pattern verification failed"), read.stdout());
    }

    @Test
    void aWriteHeldAtTheCriticalMoment(FaultdiskClient fd, @ExportUri("disk0") String uri) throws Exception {
        Tools.require("qemu-io");
        try (Breakpoint bp = fd.breakpoint("disk0", "write_aio", "w")) {
            CompletableFuture<Tools.Result> writer = CompletableFuture.supplyAsync(() -> qemuIo(uri, "write -P 0x5a 1M 64k"));

            Suspension held = bp.awaitHit(TIMEOUT);
            assertEquals(1 << 20, held.offset());
            assertEquals(65536, held.length());
            // While the write is held, another client still reads the old data...
            qemuIo(uri, "read -P 0 1M 64k").assertOk("read while the write is held");
            assertFalse(writer.isDone());
            // ...and a fault armed now hits whatever comes next.
            fd.blkdebugSetRules("disk0", BlkdebugRule.injectError("read_aio").errno("EIO").once());
            bp.resume();

            writer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("the held write, resumed");
        }
        Tools.Result read = qemuIo(uri, "read -P 0x5a 1M 64k");
        assertTrue(read.stdout().contains("read failed: Input/output error"), read.stdout());
        qemuIo(uri, "read -P 0x5a 1M 64k").assertOk("the rule fired once");
    }
}
