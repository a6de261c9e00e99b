package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.fault.blkdebug.BlkdebugEvent;
import dev.faultdisk.fault.blkdebug.Operation;
import dev.faultdisk.fault.blkdebug.SuspendedRequest;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Breakpoints hold a real client's request at an event while other clients are served. */
@Faultdisk(exports = "d=memory:4M")
class BlkdebugBreakpointTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** The blkdebug engine of export "d" (and qemu-io, which every test here drives). */
    private static BlkdebugEngine engine(FaultdiskServer server) {
        Tools.require("qemu-io");
        return server.exports().find("d").orElseThrow().blkdebug();
    }

    @Test
    void heldWriteWaitsForResumeWhileAnotherClientReads(FaultdiskServer server, @ExportUri("d") String uri)
            throws Exception {
        BlkdebugEngine engine = engine(server);
        engine.setBreakpoint(BlkdebugEvent.WRITE_AIO, "A");
        CompletableFuture<CommandResult> writer = QemuIo.start(uri, "write -P 0x5a 0 4k");
        assertTrue(engine.awaitSuspended("A", TIMEOUT), "the write reaches write_aio");
        // qemu-io writes through: the client sends the write with FUA
        assertEquals(
                List.of(new SuspendedRequest(1, "A", BlkdebugEvent.WRITE_AIO, Operation.WRITE_FUA, 0, 4096)),
                engine.suspended());

        QemuIo.run(uri, "read -P 0 0 4k").assertOk("reader while held");
        assertFalse(writer.isDone(), "still held");

        assertTrue(engine.resume("A"));
        CommandResult written =
                writer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("held writer");
        assertTrue(written.stdout().contains("wrote 4096/4096 bytes at offset 0"), written.stdout());
        QemuIo.run(uri, "read -P 0x5a 0 4k").assertOk("after resume");
    }

    @Test
    void removingTheBreakpointReleasesAHeldFlush(FaultdiskServer server, @ExportUri("d") String uri) throws Exception {
        BlkdebugEngine engine = engine(server);
        engine.setBreakpoint(BlkdebugEvent.FLUSH_TO_OS, "F");
        // A writethrough client's write carries FUA: a write, then a flush.
        CompletableFuture<CommandResult> writer = QemuIo.start(uri, "write -P 0x11 0 512");
        assertTrue(engine.awaitSuspended("F", TIMEOUT));
        assertEquals(BlkdebugEvent.FLUSH_TO_OS, engine.suspended().getFirst().event());
        assertTrue(engine.removeBreakpoint("F"));
        writer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("released writer");
        assertFalse(engine.mayBlock());
    }
}
