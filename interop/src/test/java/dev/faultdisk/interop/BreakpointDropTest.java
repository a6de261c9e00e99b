package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A write a blkdebug breakpoint or a trigger holds for a client that went away is dropped: a later
 * resume or release finds nothing, and the disk keeps its old data.
 */
@Faultdisk(exports = "d=memory:16M", holdTimeoutSeconds = 0)
class BreakpointDropTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void heldWriteOfAKilledQemuIoNeverReachesTheDisk(FaultdiskClient qmp, @ExportUri("d") String uri) throws Exception {
        Tools.require("qemu-io");
        QemuIo.run(uri, "write -P 0x11 0 64k").assertOk("old data");
        qmp.execute("blkdebug-set-breakpoint", Map.of("device", "d", "event", "write_aio", "tag", "w"));

        Process writer = startWrite(uri);
        try {
            Event held = qmp.awaitEvent("BLKDEBUG_SUSPENDED", TIMEOUT);
            assertEquals("w", held.data().get("tag"), held.toString());
        } finally {
            writer.destroyForcibly(); // the client goes away without its reply
            assertTrue(writer.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }

        Event dropped = qmp.awaitEvent("BLKDEBUG_RESUMED", TIMEOUT);
        assertEquals("dropped", dropped.data().get("how"), dropped.toString());
        assertEquals("ECONNRESET", dropped.data().get("errno"), dropped.toString());
        assertEquals(65536L, ((Number) dropped.data().get("length")).longValue(), dropped.toString());
        Map<?, ?> listed = (Map<?, ?>) qmp.execute("query-blkdebug-breakpoints", Map.of("device", "d"));
        assertEquals(List.of(), listed.get("suspended"), "nothing is held any more");
        QmpException none = assertThrows(
                QmpException.class, () -> qmp.execute("blkdebug-resume", Map.of("device", "d", "tag", "w")));
        assertTrue(none.desc().contains("No suspended request with tag"), none.desc());

        QemuIo.run(uri, "read -P 0x11 0 64k").assertOk("the old data stayed");
    }

    @Test
    void writeATriggerHoldsForAKilledQemuIoNeverReachesTheDisk(
            FaultdiskServer server, FaultdiskClient qmp, @ExportUri("d") String uri) throws Exception {
        Tools.require("qemu-io");
        QemuIo.run(uri, "write -P 0x22 0 64k").assertOk("old data");
        qmp.execute(
                "trigger-add",
                Map.of(
                        "triggers",
                        List.of(Map.of(
                                "when", Map.of("device", "d", "ops", List.of("write")),
                                "actions", List.of(Map.of("action", "hold"))))));

        Process writer = startWrite(uri);
        try {
            await("the write held")
                    .atMost(TIMEOUT)
                    .until(() -> !server.exports()
                            .find("d")
                            .orElseThrow()
                            .faults()
                            .held()
                            .isEmpty());
        } finally {
            writer.destroyForcibly();
            assertTrue(writer.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }

        Event dropped = qmp.awaitEvent("FAULT_RELEASED", TIMEOUT);
        assertEquals("dropped", dropped.data().get("how"), dropped.toString());
        assertEquals("ECONNRESET", dropped.data().get("errno"), dropped.toString());
        qmp.execute("trigger-clear", Map.of());
        Map<?, ?> released = (Map<?, ?>) qmp.execute("fault-release", Map.of("device", "d"));
        assertEquals(List.of(), released.get("released"), "nothing is left to release");

        QemuIo.run(uri, "read -P 0x22 0 64k").assertOk("the old data stayed");
    }

    /** A qemu-io writing 0x5a over the first 64 KiB, its output discarded. */
    private static Process startWrite(String uri) throws IOException {
        return new ProcessBuilder("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", uri)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
    }
}
