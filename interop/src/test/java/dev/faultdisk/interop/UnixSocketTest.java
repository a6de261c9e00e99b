package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.NbdCopy;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same clients over a Unix socket ({@code --nbd unix:PATH}), and its large writes' own path. */
class UnixSocketTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void clientsConnectOverUnixSocket(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo", "qemu-io", "nbdcopy");
        try (TestServer server = TestServer.onUnixSocket(dir.resolve("nbd.sock"), "d=memory:8M")) {
            String uri = server.uri("d");
            String json = Command.run(TIMEOUT, "nbdinfo", "--json", uri)
                    .assertOk("nbdinfo over a Unix socket")
                    .stdout();
            Map<?, ?> info = (Map<?, ?>) Json.parse(json);
            assertEquals(
                    8L << 20,
                    ((Number) ((Map<?, ?>) ((List<?>) info.get("exports")).getFirst()).get("export-size")).longValue());

            CommandResult io = QemuIo.run(uri, "write -P 0x3c 4097 5000", "read -P 0x3c 4097 5000")
                    .assertOk("qemu-io");
            assertEquals(
                    List.of("wrote 5000/5000 bytes at offset 4097", "read 5000/5000 bytes at offset 4097"),
                    QemuIo.reports(io.stdout()));

            NbdCopy.assertRoundTrip(dir, uri, 0x5eed_0005L, 8 << 20, "seed 0x5eed0005 over a Unix socket");
        }
    }

    /**
     * Large writes over a Unix socket run on threads of their own while the reader receives the
     * next where asked for ({@code -Dfaultdisk.nbd.unixWritesOffReader=true}; docs/BENCHMARKS.md,
     * "Over Unix sockets"): real clients' bytes still land exactly, small writes stay on the
     * reader, and what was written reads back the same over NBD.
     */
    @Test
    void largeWritesRunOffTheReaderAndLandExactly(@TempDir Path dir) throws Exception {
        Tools.require("nbdcopy", "qemu-io");
        int size = 8 << 20;
        Path image = dir.resolve("img.raw");
        Files.write(image, new byte[size]);
        // The path on, and every large write may take it at once (nbdcopy's connections, qemu-io's
        // single write), not only once its stream has run alone for a while: the path is what is tested.
        System.setProperty("faultdisk.nbd.unixWritesOffReader", "true");
        System.setProperty("faultdisk.nbd.largeWritesAloneMillis", "0");
        TestServer started;
        try {
            started = TestServer.onUnixSocket(dir.resolve("nbd.sock"), "img=" + image, "mem=memory:" + size);
        } finally {
            System.clearProperty("faultdisk.nbd.unixWritesOffReader");
            System.clearProperty("faultdisk.nbd.largeWritesAloneMillis");
        }
        try (TestServer server = started) {
            String uri = server.uri("img");
            byte[] content = Images.random(0x5eed_0021L, size);
            Path in = dir.resolve("in.raw");
            Files.write(in, content);
            long before = server.server().writesOffReader();
            NbdCopy.copy(in.toString(), uri, "--request-size=1048576");
            Images.assertSameBytes(content, image, "the image nbdcopy wrote in 1 MiB requests");
            assertTrue(
                    server.server().writesOffReader() >= before + size / (1 << 20),
                    "its writes ran off the reader: " + (server.server().writesOffReader() - before));
            before = server.server().writesOffReader();
            QemuIo.run(uri, "write -P 0x5a 1000000 700000", "write -P 0x7c 5M 4096")
                    .assertOk("two writes");
            Arrays.fill(content, 1_000_000, 1_700_000, (byte) 0x5a);
            Arrays.fill(content, 5 << 20, (5 << 20) + 4096, (byte) 0x7c);
            Images.assertSameBytes(content, image, "the image after qemu-io's writes");
            assertEquals(
                    before + 1,
                    server.server().writesOffReader(),
                    "the large write ran off the reader, the small one not");
            Path out = dir.resolve("out.raw");
            NbdCopy.copy(uri, out.toString());
            assertArrayEquals(content, Files.readAllBytes(out), "the image read back over NBD");

            // To a memory export the same writes go off the reader straight into its pages.
            String mem = server.uri("mem");
            before = server.server().writesOffReader();
            long paged = server.server().writesIntoPages();
            NbdCopy.copy(out.toString(), mem, "--request-size=1048576");
            QemuIo.run(mem, "write -P 0x6b 2000001 900000").assertOk("an unaligned large write");
            Arrays.fill(content, 2_000_001, 2_900_001, (byte) 0x6b);
            long offReader = server.server().writesOffReader() - before;
            assertTrue(offReader >= size / (1 << 20), "the writes ran off the reader: " + offReader);
            assertTrue(
                    server.server().writesIntoPages() - paged >= offReader,
                    "those off the reader went into pages: " + (server.server().writesIntoPages() - paged));
            Path back = dir.resolve("mem.raw");
            NbdCopy.copy(mem, back.toString());
            assertArrayEquals(content, Files.readAllBytes(back), "the memory export read back over NBD");
        }
    }

    /**
     * By default a Unix socket's large writes start on the reader: the server's trial of both ways
     * takes that way first, and off it only after a block of writing on it (0.8 s, {@code
     * LargeWriteStreams.TRIAL}: a short copy never gets there).
     */
    @Test
    void byDefaultLargeWritesStayOnTheReader(@TempDir Path dir) throws Exception {
        Tools.require("nbdcopy");
        int size = 4 << 20;
        Path image = dir.resolve("img.raw");
        Files.write(image, new byte[size]);
        System.setProperty("faultdisk.nbd.largeWritesAloneMillis", "0"); // alone at once: only the default decides
        TestServer started;
        try {
            started = TestServer.onUnixSocket(dir.resolve("nbd.sock"), "img=" + image);
        } finally {
            System.clearProperty("faultdisk.nbd.largeWritesAloneMillis");
        }
        try (TestServer server = started) {
            byte[] content = Images.random(0x5eed_0022L, size);
            Path in = dir.resolve("in.raw");
            Files.write(in, content);
            NbdCopy.copy(in.toString(), server.uri("img"), "--request-size=1048576", "--connections=1");
            Images.assertSameBytes(content, image, "the image nbdcopy wrote in 1 MiB requests");
            assertEquals(0, server.server().writesOffReader(), "large writes that ran off the reader");
        }
    }
}
