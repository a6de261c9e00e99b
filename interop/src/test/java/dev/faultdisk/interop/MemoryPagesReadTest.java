package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.NbdCopy;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large reads of a memory export go out straight from its pages (no copy into a buffer first):
 * real clients must get the bytes the usual path gives, across pages written, never written and
 * zeroed, in one reply of the whole export, over TLS too; a read of pages never
 * written is answered as a hole; and a layer that acts on reads (a fault rule) sees every one.
 */
class MemoryPagesReadTest {
    private static final int SIZE = SendfileReadTest.SIZE;
    private static final int MIB = SendfileReadTest.MIB;

    /** Writes random bytes over the memory export img (8 MiB) but for its last MiB; returns what it holds. */
    private static byte[] fill(String uri, Path dir, long seed) throws IOException {
        byte[] content = Images.random(seed, SIZE);
        Arrays.fill(content, SIZE - MIB, SIZE, (byte) 0);
        Path file = dir.resolve("fill.raw");
        Files.write(file, Arrays.copyOf(content, SIZE - MIB));
        NbdCopy.copy(file.toString(), uri);
        return content;
    }

    @Test
    @Faultdisk(exports = "img=memory:8M")
    void largeReadsGoOutFromThePagesUntilARuleActs(
            FaultdiskClient fd, FaultdiskServer server, @ExportUri("img") String uri, @TempDir Path dir)
            throws IOException {
        Tools.require("nbdcopy", "qemu-io");
        NbdServer nbd = server.nbd();
        byte[] content = fill(uri, dir, 0x3e3_0001L);
        // Zeroed in place (kept allocated) and trimmed, across page boundaries.
        QemuIo.run(uri, "write -z 1000k 100k", "discard 2M 64k").assertOk("zero and trim");
        Arrays.fill(content, 1000 << 10, 1100 << 10, (byte) 0);
        Arrays.fill(content, 2 * MIB, 2 * MIB + (64 << 10), (byte) 0);

        long before = nbd.readsSentFromMemory();
        Images.assertSameBytes(content, SendfileReadTest.copyOut(uri, dir), "nbdcopy of the whole export");
        assertTrue(nbd.readsSentFromMemory() > before, "nbdcopy's large reads went out from the pages");

        // Odd offsets and lengths, and one read of the whole 8 MiB in one reply.
        before = nbd.readsSentFromMemory();
        CommandResult reads = QemuIo.run(
                uri,
                "read -v 4095 70000",
                "read -v 1048573 262147",
                "read 0 8M",
                "read -P 0 7M 1M",
                "read -P 0 1000k 100k");
        reads.assertOk("reads at odd offsets");
        assertTrue(reads.stdout().contains("read 8388608/8388608 bytes at offset 0"), reads.toString());
        assertEquals(
                hexDump(content, 4095, 70000) + hexDump(content, 1048573, 262147),
                dumpLines(reads.stdout()),
                "the bytes of the odd reads");
        assertEquals(
                before + 3,
                nbd.readsSentFromMemory(),
                "the three reads of written pages went from them; those of pages never written or zeroed are holes");

        // A rule that acts on reads takes every read off the pages, and gives them back when removed.
        long ruled = SendfileReadTest.assertRulesSeeEveryRead(fd, uri, dir, content, nbd::readsSentFromMemory, MIB);
        assertEquals(ruled, nbd.readsSentFromMemory());
        fd.faultClear("img");
        Images.assertSameBytes(content, SendfileReadTest.copyOut(uri, dir), "once the rules are removed");
        assertTrue(nbd.readsSentFromMemory() > ruled, "the pages again");
    }

    @Test
    void tlsSealsLargeReadsFromThePages(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdcopy");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("img=memory:8M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withTls(TlsMode.ON, TlsCredentials.server(pki.dir(), false)))
                .start()) {
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            String tls = "nbds://localhost:" + port + "/img?tls-certificates=" + pki.caOnly();
            byte[] content = fill(tls, dir, 0x3e3_0002L);
            long before = server.nbd().readsSentFromMemory();
            Images.assertSameBytes(content, SendfileReadTest.copyOut(tls, dir), "the export over TLS");
            assertTrue(server.nbd().readsSentFromMemory() > before, "TLS sealed its large reads from the pages");
        }
    }

    /** The lines of {@code qemu-io read -v} that hold bytes, each cut after its bytes (the characters after them dropped). */
    private static String dumpLines(String stdout) {
        StringBuilder b = new StringBuilder();
        for (String line : stdout.lines().toList()) {
            if (line.matches("^[0-9a-f]{8}: .*")) {
                int bytes = Math.min(16, (line.length() - 12) / 4); // "xx " each, one more space, a character each
                b.append(line, 0, 11 + 3 * bytes - 1).append('\n');
            }
        }
        return b.toString();
    }

    /** What {@code qemu-io read -v} prints for these bytes, cut as {@link #dumpLines} cuts it. */
    private static String hexDump(byte[] content, int offset, int length) {
        StringBuilder b = new StringBuilder();
        for (int line = 0; line < length; line += 16) {
            b.append(String.format("%08x: ", offset + line));
            for (int i = line; i < Math.min(length, line + 16); i++) {
                b.append(String.format(" %02x", content[offset + i] & 0xff));
            }
            b.append('\n');
        }
        return b.toString();
    }
}
