package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.Breakpoint;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.Suspension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The example of docs/JUNIT.md: a real client (qemu-io) against the test's own faultdisk, with a
 * fault armed from the test and a write held at the critical moment.
 */
@Faultdisk(exports = "disk0=memory:64M")
@Tag("requires-qemu-io")
class QemuIoExampleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** What qemu-io printed (stdout and stderr together) and how it exited. */
    private record Output(int exit, String text) {
        Output assertOk(String what) {
            assertEquals(0, exit, what + ":\n" + text);
            return this;
        }
    }

    private static Output qemuIo(String uri, String command) {
        try {
            Process p = new ProcessBuilder("qemu-io", "-f", "raw", "-c", command, uri)
                    .redirectErrorStream(true)
                    .start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "qemu-io " + command);
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
}
