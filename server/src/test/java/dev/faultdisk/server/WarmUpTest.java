package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Filter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
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

    /**
     * Over certificates the private server speaks TLS too, with the real certificates (client
     * certificates not asked for, though the real server asks): handshakes first, then every
     * connection over TLS where it is required.
     */
    @Test
    void withCertificatesTheHandshakesAreWarmedAndTheRealServerSeesNothing(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        NbdServer.Options tls =
                NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, TlsCredentials.server(pki.dir(), true));
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:16M")
                .nbd(ANY_PORT)
                .nbdOptions(tls)
                .warmUp(Duration.ofMillis(800))
                .start()) {
            assertWarmedOverTls(server.warmUp());
            assertUntouched(server, "disk0");
            assertEquals(0, server.nbd().acceptedCount());
        }
    }

    /** With pre-shared keys over a Unix socket: a key of the warm-up's own, the real file's left alone. */
    @Test
    void withPreSharedKeysOverAUnixSocketTheHandshakesAreWarmed(@TempDir Path dir) throws Exception {
        Path keys = dir.resolve("keys.psk");
        Files.writeString(keys, "alice:" + "5a".repeat(32) + "\n");
        PskTls psk = PskTls.load(keys);
        try (LogCapture log = new LogCapture();
                FaultdiskServer server = FaultdiskServer.builder()
                        .export("disk0=memory:16M")
                        .nbd(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")))
                        .nbdOptions(NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, psk))
                        .warmUp(Duration.ofMillis(800))
                        .start()) {
            WarmUp.Report report = server.warmUp();
            assertWarmedOverTls(report);
            // TLS 1.3 as GnuTLS's clients speak it, X25519 first; TLS 1.2 in one handshake of four.
            List<String> lines = log.connections();
            assertTrue(
                    lines.stream().anyMatch(l -> l.endsWith("TLSv1.3 TLS_AES_128_GCM_SHA256 x25519")),
                    lines.toString());
            assertEquals(
                    report.handshakes() / 4,
                    lines.stream()
                            .filter(l -> l.contains("TLSv1.2 TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"))
                            .count(),
                    lines.toString());
            assertUntouched(server, "disk0");
            assertEquals(psk, server.nbd().options().psk(), "the real server's keys");
        }
    }

    /**
     * Where TLS is optional, some clients come without it: the private server lets both in, and
     * both kinds of connection are warmed.
     */
    @Test
    void whereTlsIsOptionalBothKindsOfConnectionAreWarmed(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        NbdServer.Options tls =
                NbdServer.Options.defaults().withTls(TlsMode.ON, TlsCredentials.server(pki.dir(), false));
        try (LogCapture log = new LogCapture();
                FaultdiskServer server = FaultdiskServer.builder()
                        .export("disk0=memory:16M")
                        .nbd(ANY_PORT)
                        .nbdOptions(tls)
                        .warmUp(Duration.ofMillis(800))
                        .start()) {
            WarmUp.Report report = server.warmUp();
            assertWarmedOverTls(report);
            List<String> lines = log.connections();
            List<String> secure =
                    lines.stream().filter(l -> l.contains("STARTTLS")).toList();
            assertEquals(report.handshakes() + 4, lines.size(), "connections: " + lines);
            assertEquals(report.handshakes() + 2, secure.size(), "over TLS: " + secure);
            assertTrue(secure.stream().allMatch(l -> l.contains("TLSv1.3")), secure.toString());
            assertUntouched(server, "disk0");
            assertEquals(TlsMode.ON, server.nbd().options().tlsMode(), "the real server's mode");
        }
    }

    /**
     * A server that takes one connection at a time, and gives a handshake less time than a cold
     * JVM's first TLS handshake takes, is warmed all the same; its own budgets stand.
     */
    @Test
    void tightConnectionAndHandshakeBudgetsDoNotStopTheWarmUp(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        NbdServer.Options tight = new NbdServer.Options(
                1,
                NbdServer.Options.DEFAULT_MAX_IN_FLIGHT,
                NbdServer.Options.DEFAULT_PAYLOAD_BUDGET,
                Duration.ofMillis(50),
                TlsMode.REQUIRE,
                TlsCredentials.server(pki.dir(), false),
                null);
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:16M")
                .nbd(ANY_PORT)
                .nbdOptions(tight)
                .warmUp(Duration.ofMillis(1200))
                .start()) {
            assertWarmedOverTls(server.warmUp());
            assertEquals(4, server.warmUp().connections());
            assertEquals(1, server.nbd().options().maxConnections(), "the real server's budget");
            assertEquals(Duration.ofMillis(50), server.nbd().options().handshakeTimeout());
        }
    }

    /**
     * A server that times its requests (metrics, the dashboard) is warmed timing them too, in the
     * private server's own registry: the real one's latency histograms count nothing of it.
     */
    @Test
    void aServerThatTimesRequestsCountsNoneOfTheWarmUpsInItsLatencies() throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:16M")
                .nbd(ANY_PORT)
                .timeRequests(true)
                .warmUp(Duration.ofMillis(200))
                .start()) {
            assertNull(server.warmUp().failure());
            long reads;
            try (WarmUpClient client =
                    WarmUpClient.connect(server.nbdAddress(), "disk0", null, Duration.ofSeconds(30))) {
                reads = client.drive(1_000_000, false, false, 1);
            }
            Map<?, ?> latency = (Map<?, ?>) server.commands().invoke("query-latency", Map.of());
            List<?> exports = (List<?>) latency.get("exports");
            assertEquals(1, exports.size(), String.valueOf(exports));
            Map<?, ?> disk0 = (Map<?, ?>) exports.getFirst();
            assertEquals("disk0", disk0.get("device"));
            Map<?, ?> read = ((List<?>) disk0.get("ops"))
                    .stream()
                            .map(o -> (Map<?, ?>) o)
                            .filter(o -> "read".equals(o.get("op")))
                            .findFirst()
                            .orElseThrow();
            assertEquals(reads, ((Number) read.get("count")).longValue(), "reads timed: this client's alone");
        }
    }

    /**
     * The warm-up's client sends every kind of request a writable export takes, zeroes with and
     * without NO_HOLE and trims among them (fio, the AOT cache's other trainer, sends no zeroes),
     * and each is answered without an error (the client throws on one).
     */
    @Test
    void onAWritableExportTheClientSendsWritesZeroesTrimsAndFlushes(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        try (FaultdiskServer server =
                FaultdiskServer.builder().export("disk0=" + image).nbd(ANY_PORT).start()) {
            long answered;
            try (WarmUpClient client =
                    WarmUpClient.connect(server.nbdAddress(), "disk0", null, Duration.ofSeconds(30))) {
                answered = client.drive(500_000_000, true, false, 1); // well past 256 requests: one flush each 256
            }
            Export export = server.exports().all().getFirst();
            long counted = 0;
            for (BlockOp op : BlockOp.values()) {
                counted += export.stats().ops(op);
            }
            assertEquals(answered, counted, "every request answered was counted");
            for (BlockOp op : List.of(BlockOp.READ, BlockOp.WRITE, BlockOp.WRITE_ZEROES, BlockOp.TRIM, BlockOp.FLUSH)) {
                assertTrue(export.stats().ops(op) > 0, op + " of " + answered + " requests");
            }
            assertTrue(export.stats().ops(BlockOp.WRITE_ZEROES) >= answered / 32, "one request in sixteen a zero");
        }
    }

    @Test
    void aServerWithoutTlsMakesNoHandshakes() throws Exception {
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:16M")
                .nbd(ANY_PORT)
                .warmUp(Duration.ofMillis(100))
                .start()) {
            assertEquals(0, server.warmUp().handshakes());
        }
    }

    /** Credentials made in code, with no directory whose CA a client could trust: said, and served. */
    @Test
    void certificatesWithoutADirectoryAreReportedAndTheServerStarts(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        TlsCredentials real = TlsCredentials.server(pki.dir(), false);
        TlsCredentials noDirectory = new TlsCredentials(real.context(), true, false, null);
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("disk0=memory:16M")
                .nbd(ANY_PORT)
                .nbdOptions(NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, noDirectory))
                .warmUp(Duration.ofMillis(100))
                .start()) {
            assertEquals(
                    "warm-up: the TLS credentials name no directory whose ca-cert.pem to trust",
                    server.warmUp().failure());
            assertTrue(server.nbd().port() > 0, "listening");
        }
    }

    /** A private server that never greets does not hold the start: the client's socket is cut. */
    @Test
    void aServerThatNeverAnswersIsCutOffInTime() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Thread accepter = Thread.ofVirtual().start(() -> {
                try (Socket s = silent.accept()) {
                    Thread.sleep(10_000);
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            });
            long start = System.nanoTime();
            IOException e = assertThrows(
                    IOException.class,
                    () -> WarmUpClient.connect(silent.getLocalSocketAddress(), "disk0", null, Duration.ofMillis(300)));
            long took = (System.nanoTime() - start) / 1_000_000;
            assertEquals("warm-up: the private server did not answer within PT0.3S", e.getMessage());
            assertTrue(took >= 300 && took < 5_000, "took " + took + " ms");
            accepter.interrupt();
        }
    }

    /**
     * Each kind of export (backend, read-only or not, write cache mode) is warmed on a private
     * export of its own, the first of a kind standing for the rest; nothing reaches the real ones.
     */
    @Test
    void eachKindOfExportIsWarmedOnAPrivateExportOfItsOwn(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("disk.img");
        Path golden = dir.resolve("golden.img");
        byte[] data = new byte[4 << 20];
        new SplittableRandom(13).nextBytes(data);
        Files.write(image, data);
        Files.write(golden, data);
        try (LogCapture log = new LogCapture();
                FaultdiskServer server = FaultdiskServer.builder()
                        .export("a=memory:16M")
                        .export("b=" + image)
                        .export("c=memory:32M")
                        .export("d=" + golden + ",readonly")
                        .export("e=memory:16M,cache=writeback")
                        .nbd(ANY_PORT)
                        .warmUp(Duration.ofMillis(800))
                        .start()) {
            WarmUp.Report report = server.warmUp();
            assertNull(report.failure());
            assertEquals(4, report.exports(), "memory, image, read-only image, writeback memory");
            assertEquals(16, report.connections());
            assertEquals(
                    List.of("warm-up", "warm-up-1", "warm-up-2", "warm-up-3"),
                    log.formatted.stream()
                            .filter(l -> l.contains(": export 'warm-up"))
                            .map(l -> l.replaceAll(".*: export '([^']+)'.*", "$1"))
                            .distinct()
                            .toList());
            for (String name : List.of("a", "b", "c", "d", "e")) {
                assertUntouched(server, name);
            }
        }
        assertArrayEquals(data, Files.readAllBytes(image));
        assertArrayEquals(data, Files.readAllBytes(golden));
        try (var left = Files.list(dir)) {
            assertEquals(2, left.count(), "nothing of the warm-up left beside the images");
        }
    }

    /**
     * The private connections' log lines are made and formatted (so that the first real line is
     * not the first the JVM formats) but not published, and the handler is given back as it was.
     */
    @Test
    void thePrivateConnectionsLinesAreFormattedButNotPublished() throws Exception {
        try (LogCapture log = new LogCapture()) {
            try (FaultdiskServer server = FaultdiskServer.builder()
                    .export("disk0=memory:16M")
                    .nbd(ANY_PORT)
                    .warmUp(Duration.ofMillis(200))
                    .start()) {
                assertNull(server.warmUp().failure());
                assertTrue(log.connections().size() >= 4, "connection lines formatted: " + log.formatted);
                assertEquals(List.of(), log.published, "published");
                assertNull(log.handler.getFilter(), "the handler's own filter (none) given back");
            }
        }
    }

    /**
     * Warm-ups that overlap share the hold on the JVM's handlers: records stay held until the last
     * one ends, whichever ends first, and the handler then has its own filter back.
     */
    @Test
    void overlappingHoldsGiveTheHandlersBackOnlyAfterTheLast() {
        try (LogCapture log = new LogCapture()) {
            Filter own = record -> true;
            log.handler.setFilter(own);
            Logger connection = Logger.getLogger(WarmUpLogs.PREFIX + ".Connection");
            WarmUpLogs first = WarmUpLogs.hold();
            WarmUpLogs second = WarmUpLogs.hold();
            first.close();
            first.close(); // twice: still one hold ended
            connection.info("held by the second");
            assertEquals(List.of(), log.published);
            second.close();
            connection.info("published");
            assertEquals(List.of("published"), log.published);
            assertEquals(own, log.handler.getFilter());
        }
    }

    /**
     * A handler on the NBD loggers that keeps what its formatter was given to format and what it
     * was given to publish.
     */
    private static final class LogCapture implements AutoCloseable {
        final List<String> formatted = new CopyOnWriteArrayList<>();
        final List<String> published = new CopyOnWriteArrayList<>();
        final Logger nbd = Logger.getLogger("dev.faultdisk.nbd");
        final Level level = nbd.getLevel();
        final Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (isLoggable(record)) {
                    published.add(record.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };

        LogCapture() {
            handler.setFormatter(new Formatter() {
                @Override
                public String format(LogRecord record) {
                    String line = formatMessage(record);
                    formatted.add(line);
                    return line;
                }
            });
            handler.setLevel(Level.ALL);
            nbd.setLevel(Level.INFO);
            nbd.addHandler(handler);
        }

        /** The formatted lines of the warm-up export's connections as they were negotiated. */
        List<String> connections() {
            return formatted.stream()
                    .filter(l -> l.contains(": export 'warm-up', "))
                    .toList();
        }

        @Override
        public void close() {
            nbd.removeHandler(handler);
            nbd.setLevel(level);
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

    /**
     * Handshakes made, and every connection answered at least its first burst of 64 requests: more
     * only where the warm-up's time is not spent first on a cold JVM's handshakes (run alone, a
     * class's first TLS warm-up of 0.8-1.2 s answered exactly the four bursts).
     */
    private static void assertWarmedOverTls(WarmUp.Report report) {
        assertNull(report.failure());
        assertTrue(report.handshakes() >= 1, "handshakes " + report.handshakes());
        assertTrue(report.requests() >= 4 * 64, "requests " + report.requests());
    }

    private static void assertUntouched(FaultdiskServer server, String name) {
        Export export = server.exports().all().stream()
                .filter(e -> e.name().equals(name))
                .findFirst()
                .orElseThrow();
        assertTrue(server.exports().all().stream().noneMatch(e -> e.name().startsWith("warm-up")), "a private export");
        for (BlockOp op : BlockOp.values()) {
            assertEquals(0, export.stats().ops(op), op + " requests counted on the real export");
        }
        assertTrue(server.journal().entries(0, 100, null).isEmpty(), "journal entries");
        assertEquals(0, export.faults().rules().size(), "rules on the real export");
    }
}
