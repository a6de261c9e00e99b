package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --warm-up}: the request path runs before the server listens, on a private server,
 * and nothing of it reaches the real one: no export, request, rule or journal entry, and no byte
 * of a served image changed. A warm-up that cannot run is reported and the server starts anyway.
 */
class WarmUpTest {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    @Test
    void aMemoryExportIsWarmedOverTcpAndTheRealServerSeesNothingOfIt() throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:64M")
                .nbd(ANY_PORT)
                .warmUp(Duration.ofMillis(400))
                .start()) {
            WarmUp.Report report = server.warmUp();
            assertNotNull(report);
            assertNull(report.failure());
            assertEquals(4, report.connections());
            // Four connections each keep 64 requests in flight for 100 ms: far more than one round.
            assertTrue(report.requests() > 4 * 64, "requests " + report.requests());
            assertTrue(report.took().compareTo(Duration.ofMillis(400)) >= 0, "took " + report.took());

            assertUntouched(server, "disk0");
            assertEquals(0, server.nbd().acceptedCount(), "the real listener accepted nothing yet");
        }
    }

    @Test
    void aWritableImageIsWarmedOnAScratchFileBesideItOverAUnixSocketAndKeepsEveryByte(@TempDir Path dir)
            throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] data = new byte[8 << 20];
        new SplittableRandom(7).nextBytes(data);
        Files.write(image, data);
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("data=" + image)
                .nbd(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")))
                .warmUp(Duration.ofMillis(200))
                .start()) {
            WarmUp.Report report = server.warmUp();
            assertNull(report.failure());
            assertTrue(report.requests() > 4 * 64, "requests " + report.requests());
            assertUntouched(server, "data");
            // A mapping of the image (or of its scratch copy) would stay resident until collected.
            assertTrue(
                    Files.readAllLines(Path.of("/proc/self/maps")).stream().noneMatch(l -> l.contains(dir.toString())),
                    "the warm-up left a file of the image's directory mapped");
        }
        assertArrayEquals(data, Files.readAllBytes(image));
        try (var left = Files.list(dir)) {
            assertEquals(List.of(image), left.toList(), "nothing of the warm-up left beside the image");
        }
    }

    @Test
    void aReadOnlyImageIsReadInPlaceAndNothingIsWrittenBesideIt(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("golden.img");
        byte[] data = new byte[4 << 20];
        new SplittableRandom(11).nextBytes(data);
        Files.write(image, data);
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("golden=" + image + ",readonly")
                .nbd(ANY_PORT)
                .warmUp(Duration.ofMillis(200))
                .start()) {
            assertNull(server.warmUp().failure());
            assertTrue(
                    server.warmUp().requests() > 4 * 64,
                    "requests " + server.warmUp().requests());
            assertUntouched(server, "golden");
        }
        assertArrayEquals(data, Files.readAllBytes(image));
        try (var left = Files.list(dir)) {
            assertEquals(List.of(image), left.toList());
        }
    }

    @Test
    void aWarmUpThatCannotRunIsReportedAndTheServerStarts() throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("tiny=memory:1K")
                .nbd(ANY_PORT)
                .warmUp(Duration.ofMillis(100))
                .start()) {
            WarmUp.Report report = server.warmUp();
            assertEquals("warm-up: the export is smaller than one request", report.failure());
            assertEquals(0, report.requests());
            assertTrue(server.nbd().port() > 0, "listening");
        }
    }

    @Test
    void noWarmUpByDefaultAndNoNegativeOne() throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:1M")
                .nbd(ANY_PORT)
                .start()) {
            assertNull(server.warmUp());
        }
        assertThrows(
                IllegalArgumentException.class, () -> FaultdiskServer.builder().warmUp(Duration.ofMillis(-1)));
    }

    private static void assertUntouched(FaultdiskServer server, String name) {
        assertEquals(
                List.of(name), server.exports().all().stream().map(Export::name).toList());
        Export export = server.exports().all().getFirst();
        for (BlockOp op : BlockOp.values()) {
            assertEquals(0, export.stats().ops(op), op + " requests counted on the real export");
        }
        assertTrue(server.journal().entries(0, 100, null).isEmpty(), "journal entries");
        assertEquals(0, export.faults().rules().size(), "rules on the real export");
    }
}
