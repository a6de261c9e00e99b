package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.HeldRequest;
import dev.faultdisk.device.DeviceStats;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The silent disk with a real client: qemu-io sends several requests on one connection (aio);
 * the one a hang rule holds gets no reply until released over QMP, the others are answered.
 */
@Faultdisk(exports = "d=memory:16M")
class FaultHangTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Waits until a request is held, and returns the first. */
    private static HeldRequest awaitHeld(FaultdiskClient fd) {
        return await("a held request")
                .atMost(TIMEOUT)
                .until(() -> fd.queryHeldRequests("d"), h -> !h.isEmpty())
                .getFirst();
    }

    private static Map<String, Object> released(FaultdiskClient fd) {
        return fd.awaitEvent("FAULT_RELEASED", TIMEOUT).data();
    }

    @Test
    void aHeldReadDoesNotBlockTheOthersOnItsConnectionAndReleaseWorks(
            FaultdiskClient fd, FaultdiskServer server, @ExportUri("d") String uri) throws Exception {
        Tools.require("qemu-io");
        QemuIo.run(uri, "write -P 0x3c 0 128k").assertOk("data");
        fd.faultAdd("d", FaultRule.hang().ops("read").range(0, 4096));
        CompletableFuture<CommandResult> client = QemuIo.start(
                uri, "aio_read -P 0x3c 0 4k", "aio_read -P 0x3c 64k 4k", "aio_read -P 0x3c 96k 4k", "aio_flush");
        HeldRequest held = awaitHeld(fd);
        assertEquals(0L, held.offset());
        // The two other reads on the same connection were answered while the first is held.
        DeviceStats stats = server.exports().find("d").orElseThrow().stats();
        await("the other reads answered").atMost(TIMEOUT).until(() -> stats.ops(BlockOp.READ) >= 2);
        assertFalse(client.isDone(), "qemu-io still waits for the held read");

        assertEquals(List.of(held.id()), fd.faultRelease("d"));
        CommandResult r = client.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("qemu-io after the release");
        List<String> order = QemuIo.reports(r.stdout());
        assertEquals(
                "read 4096/4096 bytes at offset 0", order.getLast(), "the held read completed last:\n" + r.stdout());
        assertEquals(3, order.size(), r.stdout());
        assertEquals("released", released(fd).get("how"));
    }

    @Test
    void heldWritesFailWithAnErrnoOrExpire(FaultdiskClient fd, @ExportUri("d") String uri) throws Exception {
        Tools.require("qemu-io");
        fd.faultAdd("d", FaultRule.hang().ops("write").range(0, 4096));
        CompletableFuture<CommandResult> client = QemuIo.start(uri, "write -P 0x44 0 4k");
        awaitHeld(fd);
        fd.faultRelease("d", null, null, "ENOSPC");
        CommandResult r = client.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(List.of("write failed: No space left on device"), QemuIo.reports(r.stdout()));
        Map<String, Object> failed = released(fd);
        assertEquals("failed", failed.get("how"));
        assertEquals("ENOSPC", failed.get("errno"));

        fd.faultClear("d");
        fd.faultAdd("d", FaultRule.hang().ops("write").timeoutMs(300));
        long start = System.nanoTime();
        r = QemuIo.run(uri, "write -P 0x45 0 4k");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("write failed: Input/output error"), QemuIo.reports(r.stdout()));
        assertTrue(ms >= 300, "held until the timeout: " + ms + " ms");
        assertEquals("expired", released(fd).get("how"));
        fd.faultClear("d");
        QemuIo.run(uri, "read -P 0 0 4k").assertOk("neither held write reached the disk");
    }
}
