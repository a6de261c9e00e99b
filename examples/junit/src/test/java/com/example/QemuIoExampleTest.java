package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.Breakpoint;
import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.HeldRequest;
import dev.faultdisk.client.Suspension;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The example of docs/JUNIT.md: a real client (qemu-io) against the test's own faultdisk, with a
 * fault armed from the test, a write held at the critical moment, and the third write held by a
 * fault rule.
 */
@Faultdisk(exports = "disk0=memory:64M")
class QemuIoExampleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** What qemu-io printed (stdout and stderr together) and how it exited. */
    private record Output(int exit, String text) {
        Output assertOk(String what) {
            assertEquals(0, exit, what + ":\n" + text);
            return this;
        }
    }

    /** qemu-io runs the commands one after the other, each as soon as the one before completed. */
    private static Output qemuIo(String uri, String... commands) {
        List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            argv.addAll(List.of("-c", c));
        }
        argv.add(uri);
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "qemu-io " + List.of(commands));
            return new Output(p.exitValue(), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aFullDiskFailsOneWriteThenRecovers(FaultdiskClient fd, @ExportUri("disk0") String uri) {
        fd.blkdebugSetRules(
                "disk0", BlkdebugRule.injectError("write_aio").errno("ENOSPC").once());

        Output failed = qemuIo(uri, "write -P 0xab 0 4k");
        assertTrue(failed.text().contains("write failed: No space left on device"), failed.text());
        assertEquals(1, fd.queryBlockstats("disk0").op("write").errors());

        qemuIo(uri, "write -P 0xab 0 4k").assertOk("second write");
        Output read = qemuIo(uri, "read -P 0xab 0 4k").assertOk("read back");
        assertFalse(read.text().contains("Pattern verification failed"), read.text());
    }

    @Test
    void aWriteHeldAtTheCriticalMoment(FaultdiskClient fd, @ExportUri("disk0") String uri) throws Exception {
        try (Breakpoint bp = fd.breakpoint("disk0", "write_aio", "w")) {
            CompletableFuture<Output> writer = CompletableFuture.supplyAsync(() -> qemuIo(uri, "write -P 0x5a 1M 64k"));

            Suspension held = bp.awaitHit(TIMEOUT);
            assertEquals(1 << 20, held.offset());
            assertEquals(65536, held.length());
            // While the write is held, another client still reads the old data...
            qemuIo(uri, "read -P 0 1M 64k").assertOk("read while the write is held");
            assertFalse(writer.isDone());
            // ...and a fault armed now hits whatever comes next.
            fd.blkdebugSetRules(
                    "disk0", BlkdebugRule.injectError("read_aio").errno("EIO").once());
            bp.resume();

            writer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("the held write, resumed");
        }
        Output read = qemuIo(uri, "read -P 0x5a 1M 64k");
        assertTrue(read.text().contains("read failed: Input/output error"), read.text());
        qemuIo(uri, "read -P 0x5a 1M 64k").assertOk("the rule fired once");
    }

    @Test
    void theThirdWriteHeld(FaultdiskClient fd, @ExportUri("disk0") String uri) throws Exception {
        // The server counts the writes and holds the third inside its request path, whatever the pace.
        fd.faultAdd("disk0", FaultRule.hang().ops(BlockOp.WRITE).nth(3));
        CompletableFuture<Output> writer = CompletableFuture.supplyAsync(
                () -> qemuIo(uri, "write -P 1 0 4k", "write -P 2 4k 4k", "write -P 3 8k 4k", "write -P 4 12k 4k"));

        Event held = fd.awaitEvent("FAULT_INJECTED", TIMEOUT); // a hang rule announces each request it holds
        assertEquals("held", held.string("action"));
        HeldRequest request = fd.queryHeldRequests("disk0").getFirst();
        assertEquals(8192, request.offset(), "the third write, at 8k");
        assertEquals(2, fd.queryBlockstats("disk0").op("write").operations(), "two writes done, the third held");
        assertFalse(writer.isDone());

        fd.faultRelease("disk0");
        writer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).assertOk("the held write, released, and the fourth");
        Output read = qemuIo(uri, "read -P 3 8k 4k", "read -P 4 12k 4k").assertOk("read back");
        assertFalse(read.text().contains("Pattern verification failed"), read.text());
    }
}
