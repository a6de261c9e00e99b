package dev.faultdisk.interop;

import dev.faultdisk.wire.BlockOp;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The silent disk with a real client: qemu-io sends several requests on one connection (aio);
 * the one a hang rule holds gets no reply until released over QMP, the others are answered.
 */
class FaultHangTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static CompletableFuture<Tools.Result> qemuIo(FaultServer s, String... commands) {
        return CompletableFuture.supplyAsync(() -> QemuIo.run(s.uri("d"), commands), r -> Thread.ofVirtual().start(r));
    }

    /** Polls query-held-requests until {@code n} requests are held. */
    private static List<Map<String, Object>> awaitHeld(FaultServer s, int n) throws Exception {
        long end = System.currentTimeMillis() + TIMEOUT.toMillis();
        while (true) {
            List<Map<String, Object>> held = s.qmp.ok("{\"execute\": \"query-held-requests\"}");
            if (held.size() >= n) {
                return held;
            }
            assertTrue(System.currentTimeMillis() < end, "timed out waiting for " + n + " held requests");
            Thread.sleep(20);
        }
    }

    @Test
    void aHeldReadDoesNotBlockTheOthersOnItsConnectionAndReleaseWorks() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            QemuIo.run(s.uri("d"), "write -P 0x3c 0 128k").assertOk("data");
            s.qmp.addFaults("d", "[{\"type\": \"hang\", \"ops\": [\"read\"], \"offset\": 0, \"length\": 4096}]");
            CompletableFuture<Tools.Result> client = qemuIo(s, "aio_read -P 0x3c 0 4k", "aio_read -P 0x3c 64k 4k",
                    "aio_read -P 0x3c 96k 4k", "aio_flush");
            Map<String, Object> held = awaitHeld(s, 1).getFirst();
            assertEquals(0L, held.get("offset"));
            // The two other reads on the same connection were answered while the first is held.
            long end = System.currentTimeMillis() + TIMEOUT.toMillis();
            while (s.export("d").stats().ops(dev.faultdisk.wire.BlockOp.READ) < 2) {
                assertTrue(System.currentTimeMillis() < end, "the other reads were not answered");
                Thread.sleep(10);
            }
            assertFalse(client.isDone(), "qemu-io still waits for the held read");

            Map<String, Object> released = s.qmp.ok("{\"execute\": \"fault-release\", \"arguments\": {\"device\": \"d\"}}");
            assertEquals(List.of(held.get("id")), released.get("released"));
            Tools.Result r = client.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("qemu-io after the release");
            List<String> order = QemuIo.reports(r.stdout());
            assertEquals("read 4096/4096 bytes at offset 0", order.getLast(), "the held read completed last:\n" + r.stdout());
            assertEquals(3, order.size(), r.stdout());
            assertEquals("released", s.qmp.awaitEvent("FAULT_RELEASED").get("how"));
        }
    }

    @Test
    void heldWritesFailWithAnErrnoOrExpire() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"hang\", \"ops\": [\"write\"], \"offset\": 0, \"length\": 4096}]");
            CompletableFuture<Tools.Result> client = qemuIo(s, "write -P 0x44 0 4k");
            awaitHeld(s, 1);
            s.qmp.ok("{\"execute\": \"fault-release\", \"arguments\": {\"device\": \"d\", \"errno\": \"ENOSPC\"}}");
            Tools.Result r = client.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(List.of("write failed: No space left on device"), QemuIo.reports(r.stdout()));
            Map<String, Object> failed = s.qmp.awaitEvent("FAULT_RELEASED");
            assertEquals("failed", failed.get("how"));
            assertEquals("ENOSPC", failed.get("errno"));

            s.qmp.clearFaults("d");
            s.qmp.addFaults("d", "[{\"type\": \"hang\", \"ops\": [\"write\"], \"timeout-ms\": 300}]");
            long start = System.nanoTime();
            r = QemuIo.run(s.uri("d"), "write -P 0x45 0 4k");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(List.of("write failed: Input/output error"), QemuIo.reports(r.stdout()));
            assertTrue(ms >= 300, "held until the timeout: " + ms + " ms");
            assertEquals("expired", s.qmp.awaitEvent("FAULT_RELEASED").get("how"));
            s.qmp.clearFaults("d");
            QemuIo.run(s.uri("d"), "read -P 0 0 4k").assertOk("neither held write reached the disk");
        }
    }
}
