package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** qemu-io (QEMU's NBD client) writes and reads back patterns, in flight at once, zeroes and discards. */
class QemuIoTest {
    private static final long SIZE = 8 << 20;

    /** A pattern written at an offset; the ranges below do not overlap. */
    private record Io(int pattern, long offset, long length) {
        String write() {
            return "write -P " + pattern + " " + offset + " " + length;
        }

        String read() {
            return "read -P " + pattern + " " + offset + " " + length;
        }

        String wrote() {
            return "wrote " + length + "/" + length + " bytes at offset " + offset;
        }

        String readBack() {
            return "read " + length + "/" + length + " bytes at offset " + offset;
        }
    }

    // Aligned and unaligned offsets and sizes; reads larger than 64 KiB and writes larger than
    // 128 KiB take the server's other buffer paths; the last one ends at the end of the export.
    private static final List<Io> IOS = List.of(
            new Io(0xab, 0, 513),
            new Io(0x11, 513, 3000),
            new Io(0x12, 3513, 583),
            new Io(0x21, 65535, 2),
            new Io(0x31, (1 << 20) - 1, 131073),
            new Io(0x41, (3 << 20) + 7, (1 << 20) + 3),
            new Io(0x51, SIZE - 512, 512));

    /** A test body given the URI and the export of an 8 MiB export "d". */
    private interface OnExport {
        void run(String uri, Export export) throws Exception;
    }

    /** Runs {@code test} against an 8 MiB export on {@code backend} (needs qemu-io). */
    private static void onBackend(String backend, Path dir, OnExport test) throws Exception {
        Tools.require("qemu-io");
        try (TestServer server = new TestServer(TestServer.spec("d", backend, dir, "8M"))) {
            test.run(server.uri("d"), server.export("d"));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void patternsAtAlignedAndUnalignedOffsetsReadBack(String backend, @TempDir Path dir) throws Exception {
        onBackend(backend, dir, (uri, export) -> {
            CommandResult w = QemuIo.run(uri, IOS.stream().map(Io::write).toArray(String[]::new))
                    .assertOk("writes");
            assertEquals(IOS.stream().map(Io::wrote).toList(), QemuIo.reports(w.stdout()));

            // A fresh connection: the data comes from the server, not from a client cache.
            List<String> reads = new ArrayList<>(IOS.stream().map(Io::read).toList());
            reads.add("read -P 0 " + (3513 + 583) + " " + (65535 - 3513 - 583)); // untouched gap reads zero
            CommandResult r = QemuIo.run(uri, reads.toArray(String[]::new)).assertOk("reads");
            List<String> expected =
                    new ArrayList<>(IOS.stream().map(Io::readBack).toList());
            expected.add(
                    "read " + (65535 - 3513 - 583) + "/" + (65535 - 3513 - 583) + " bytes at offset " + (3513 + 583));
            assertEquals(expected, QemuIo.reports(r.stdout()));
        });
    }

    @Test
    void mismatchingPatternFailsVerification() throws Exception {
        Tools.require("qemu-io");
        try (TestServer server = new TestServer("d=memory:1M")) {
            String uri = server.uri("d");
            QemuIo.run(uri, "write -P 0xab 0 4096").assertOk("write");
            CommandResult bad = QemuIo.run(uri, "read -P 0xcd 0 4096");
            assertNotEquals(0, bad.exit(), bad.stdout());
            assertEquals(
                    "Pattern verification failed at offset 0, 4096 bytes",
                    QemuIo.reports(bad.stdout()).get(0),
                    bad.stdout());
            // One byte off inside a range is also caught.
            QemuIo.run(uri, "write -P 0xcd 1000 1").assertOk("write one byte");
            CommandResult oneByte = QemuIo.run(uri, "read -P 0xab 0 4096");
            assertNotEquals(0, oneByte.exit(), oneByte.stdout());
            assertTrue(oneByte.stdout().contains("Pattern verification failed"), oneByte.stdout());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void aioRequestsInFlightTogetherThenFlush(String backend, @TempDir Path dir) throws Exception {
        onBackend(backend, dir, (uri, export) -> {
            long flushes = export.stats().ops(BlockOp.FLUSH);
            // aio_* commands return at once, so all of them are in flight before aio_flush waits.
            List<String> commands = new ArrayList<>();
            IOS.forEach(io -> commands.add("aio_" + io.write()));
            commands.add("aio_flush");
            IOS.forEach(io -> commands.add("aio_" + io.read()));
            commands.add("aio_flush");
            CommandResult r = QemuIo.run(uri, commands.toArray(String[]::new)).assertOk("aio");
            // Completions print in completion order, which is not the submission order.
            Set<String> expected = new TreeSet<>();
            IOS.forEach(io -> {
                expected.add(io.wrote());
                expected.add(io.readBack());
            });
            List<String> reports = QemuIo.reports(r.stdout());
            assertEquals(expected.size(), reports.size(), r.stdout());
            assertEquals(expected, new TreeSet<>(reports));
            assertTrue(export.stats().ops(BlockOp.FLUSH) > flushes, "aio_flush reached the server as FLUSH");
        });
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void discardAndWriteZeroesReadBackZero(String backend, @TempDir Path dir) throws Exception {
        onBackend(backend, dir, (uri, export) -> {
            QemuIo.run(uri, "write -P 0x66 0 1M").assertOk("fill");
            CommandResult r = QemuIo.run(
                            uri,
                            "discard 0 64k", // trim: reads back zero (the server zeroes what it trims)
                            "write -z 64k 64k", // WRITE_ZEROES keeping the allocation
                            "write -z -u 128k 64k", // WRITE_ZEROES that may punch a hole
                            "write -z 300001 4097", // unaligned
                            "read -P 0 0 192k",
                            "read -P 0x66 192k 103393",
                            "read -P 0 300001 4097",
                            "read -P 0x66 304098 744478")
                    .assertOk("zeroes");
            assertEquals(
                    List.of(
                            "discard 65536/65536 bytes at offset 0",
                            "wrote 65536/65536 bytes at offset 65536",
                            "wrote 65536/65536 bytes at offset 131072",
                            "wrote 4097/4097 bytes at offset 300001",
                            "read 196608/196608 bytes at offset 0",
                            "read 103393/103393 bytes at offset 196608",
                            "read 4097/4097 bytes at offset 300001",
                            "read 744478/744478 bytes at offset 304098"),
                    QemuIo.reports(r.stdout()));
            assertTrue(export.stats().ops(BlockOp.TRIM) >= 1, "discard reached the server as TRIM");
            assertTrue(export.stats().ops(BlockOp.WRITE_ZEROES) >= 3, "write -z reached the server as WRITE_ZEROES");
        });
    }

    @Test
    void readOnlyExportRefusesWrites(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path image = dir.resolve("golden.img");
        byte[] content = Images.writeRandom(image, 7, 1 << 20);
        try (TestServer server = new TestServer("golden=" + image + ",readonly")) {
            String uri = server.uri("golden");
            CommandResult rw = QemuIo.run(uri, "write -P 1 0 4k");
            assertNotEquals(0, rw.exit());
            assertTrue(
                    rw.stderr().contains("Could not open image: Permission denied"),
                    "qemu-io refuses a read-write open of an export flagged read-only:\n" + rw.stderr());

            CommandResult ro = QemuIo.runReadOnly(uri, "write -P 1 0 4k");
            assertNotEquals(0, ro.exit());
            assertTrue(ro.stderr().contains("Block node is read-only"), ro.stderr());

            CommandResult read = QemuIo.runReadOnly(uri, "read 0 1M").assertOk("read-only read");
            assertEquals(List.of("read 1048576/1048576 bytes at offset 0"), QemuIo.reports(read.stdout()));
            assertEquals(0, server.export("golden").stats().ops(BlockOp.WRITE));
        }
        assertArrayEquals(content, Files.readAllBytes(image), "read-only image unchanged");
    }
}
