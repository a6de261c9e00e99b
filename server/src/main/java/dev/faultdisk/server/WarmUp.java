package dev.faultdisk.server;

import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs a server's request path before its first client does ({@code serve --warm-up}): the JVM
 * compiles code as it runs it, so without this the first client's first fraction of a second is
 * served by the interpreter and the JIT's first compiles, tens of milliseconds a request at queue
 * depth 64 where later ones take one (docs/BENCHMARKS.md, "This round (after cc6909a)"). A private
 * server on the same kind of transport, with an export shaped like the first real export of each
 * kind (backend, read-only or not, write cache mode; for a writable image an empty scratch file
 * beside it, for a read-only one the image itself read-only; a memory export's copy empty), and no
 * control socket, journal or metrics, is driven by {@link WarmUpClient} over four connections to
 * each export in turn, plain and with a 1 ms delay on reads and writes, then closed, and the
 * scratch files removed. Its garbage is left to the collector: a full
 * collection here would shrink the heap, which the first client's run then grows back by up to
 * 56 MiB, where without it resident memory stays flat over that run. Where the server speaks TLS,
 * so does the private one ({@link WarmUpTls}): a quarter of the time goes to handshakes alone, and
 * the connections run over TLS (half of them, where it is optional). Nothing
 * of it reaches the real server: no request is counted there, no event or journal entry is made,
 * no byte of an image is written.
 */
public final class WarmUp {
    /** The most of a memory export a warm-up makes and touches. */
    private static final long SPAN = 64L << 20;

    /** Connections to each private export. */
    private static final int CONNECTIONS = 4;

    /** The most kinds of export warmed: each more one shortens each one's share. */
    private static final int MAX_SHAPES = 4;

    /** Over TLS, the part of the warm-up spent on handshakes alone (one over this). */
    private static final int HANDSHAKE_SHARE = 4;

    private static final int MAX_HANDSHAKES = 200;

    /** How long a private connection may run past its share before its socket is cut. */
    private static final Duration SLACK = Duration.ofSeconds(10);

    /**
     * What a warm-up did, for the banner.
     *
     * @param exports    the private exports warmed, one for each kind of the real ones
     * @param handshakes connections made for their TLS handshake alone, before the {@code
     *                   connections} (0 when the server speaks no TLS)
     * @param failure    why it stopped short, or null
     */
    public record Report(long requests, int connections, int exports, int handshakes, Duration took, String failure) {}

    private WarmUp() {}

    /**
     * Warms the paths {@code exports} will be served on (one private export for each kind of them,
     * at most {@link #MAX_SHAPES}), over a transport of the kind of {@code listen}, with {@code
     * options}' budgets and kind of TLS, for about {@code duration}.
     */
    static Report run(List<ExportSpec> exports, SocketAddress listen, NbdServer.Options options, Duration duration)
            throws IOException {
        long start = System.nanoTime();
        Path socketDir = null;
        SocketAddress privateAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (listen instanceof UnixDomainSocketAddress) {
            socketDir = Files.createTempDirectory("faultdisk-warm-up");
            privateAddress = UnixDomainSocketAddress.of(socketDir.resolve("nbd.sock"));
        }
        WarmUpTls tls = WarmUpTls.of(options);
        NbdServer.Options plain = options.withTls(TlsMode.OFF, null).withPsk(TlsMode.OFF, null);
        List<Path> scratches = new ArrayList<>();
        // The private connections are not the user's: their opening and closing lines would only confuse.
        WarmUpLogs logs = WarmUpLogs.hold("dev.faultdisk.nbd");
        try {
            List<ExportSpec> copies = new ArrayList<>();
            for (ExportSpec shape : shapes(exports)) {
                Path scratch = scratchBeside(shape);
                if (scratch != null) {
                    scratches.add(scratch);
                }
                copies.add(privateCopy(shape, scratch, copies.isEmpty() ? "warm-up" : "warm-up-" + copies.size()));
            }
            FaultdiskServer.Builder builder = FaultdiskServer.builder();
            copies.forEach(builder::export);
            try (FaultdiskServer server = builder.nbd(privateAddress)
                    .nbdOptions(tls == null ? plain : tls.serve(plain, options.tlsMode()))
                    .start()) {
                long left = duration.toNanos();
                int handshakes = 0;
                if (tls != null) {
                    handshakes = handshakes(server, copies.getFirst().name(), tls, left / HANDSHAKE_SHARE);
                    left -= System.nanoTime() - start;
                }
                long each = Math.max(left, 0) / ((long) CONNECTIONS * copies.size());
                long requests = 0;
                for (ExportSpec copy : copies) {
                    requests += drive(server, copy, tls, options.tlsMode(), each);
                }
                return new Report(
                        requests,
                        CONNECTIONS * copies.size(),
                        copies.size(),
                        handshakes,
                        Duration.ofNanos(System.nanoTime() - start),
                        null);
            }
        } finally {
            logs.close();
            if (socketDir != null) {
                deleteTree(socketDir);
            }
            scratches.forEach(WarmUp::deleteTree);
        }
    }

    /**
     * The first export of each kind (backend, read-only or not, write cache mode), in order, at
     * most {@link #MAX_SHAPES}: each kind runs some code the others do not.
     */
    private static List<ExportSpec> shapes(List<ExportSpec> exports) {
        record Shape(ExportSpec.Kind kind, boolean readOnly, CacheMode cache) {}
        Map<Shape, ExportSpec> first = new LinkedHashMap<>();
        for (ExportSpec e : exports) {
            if (first.size() < MAX_SHAPES) {
                first.putIfAbsent(new Shape(e.kind(), e.readOnly(), e.cache()), e);
            }
        }
        return List.copyOf(first.values());
    }

    /**
     * {@link #CONNECTIONS} connections to {@code copy} in turn, each for {@code nanos}, plain and
     * with a 1 ms delay on reads and writes, over {@code tls} as {@code mode} has clients come;
     * returns how many requests were answered.
     */
    private static long drive(FaultdiskServer server, ExportSpec copy, WarmUpTls tls, TlsMode mode, long nanos)
            throws IOException {
        Duration lifetime = Duration.ofNanos(nanos).plus(SLACK);
        long requests = 0;
        for (int i = 0; i < CONNECTIONS; i++) {
            // Where TLS is optional, half the connections go without it, as some clients will.
            boolean secure = tls != null && (mode == TlsMode.REQUIRE || i >= CONNECTIONS / 2);
            boolean delayed = i % 2 == 1;
            if (delayed) {
                server.commands()
                        .invoke(
                                "fault-add",
                                Map.of(
                                        "device",
                                        copy.name(),
                                        "rules",
                                        List.of(Map.of("type", "delay", "ops", List.of("read", "write"), "ms", 1))));
            }
            try (WarmUpClient client =
                    WarmUpClient.connect(server.nbdAddress(), copy.name(), secure ? tls : null, lifetime)) {
                // No large reads of an image: they would map it (FileMappings), and a mapping
                // stays resident until its channel is collected, up to the image's size.
                boolean memory = copy.kind() == ExportSpec.Kind.MEMORY;
                requests += client.drive(nanos, !copy.readOnly(), memory, i);
            }
            if (delayed) {
                server.commands().invoke("fault-clear", Map.of("device", copy.name()));
            }
        }
        return requests;
    }

    /**
     * Connects over {@code tls}, negotiates and disconnects for about {@code nanos}, at most
     * {@link #MAX_HANDSHAKES} times; returns how many handshakes were made. One handshake a
     * connection would leave the key exchange and the signature cold after the warm-up.
     */
    private static int handshakes(FaultdiskServer server, String export, WarmUpTls tls, long nanos) throws IOException {
        long end = System.nanoTime() + nanos;
        int n = 0;
        while (n < MAX_HANDSHAKES && (n == 0 || System.nanoTime() < end)) {
            try (WarmUpClient client = WarmUpClient.connect(
                    server.nbdAddress(), export, tls, n, Duration.ofNanos(nanos).plus(SLACK))) {
                client.disconnect();
            }
            n++;
        }
        return n;
    }

    /**
     * For a writable image, an empty sparse file beside it (the same file system), at most
     * {@link #SPAN} long, that the warm-up may write and flush; null for other exports, or when
     * the image's directory takes no new file (then the image itself is read, never written).
     */
    private static Path scratchBeside(ExportSpec first) {
        if (first.kind() != ExportSpec.Kind.FILE || first.readOnly()) {
            return null;
        }
        Path scratch = null;
        try {
            Path image = first.path().toAbsolutePath();
            scratch = Files.createTempFile(image.getParent(), ".faultdisk-warm-up-", ".img");
            try (RandomAccessFile file = new RandomAccessFile(scratch.toFile(), "rw")) {
                file.setLength(Math.min(Files.size(image), SPAN)); // sparse
            }
            return scratch;
        } catch (IOException | RuntimeException e) {
            if (scratch != null) {
                deleteTree(scratch);
            }
            return null;
        }
    }

    /**
     * {@code shape}'s export as {@code name}, without its rules: a memory export's size capped (it
     * starts empty and the warm-up writes what it reads); a writable image's scratch file beside
     * it, else the image opened read-only and unlocked beside the real export.
     */
    private static ExportSpec privateCopy(ExportSpec shape, Path scratch, String name) {
        if (scratch != null) {
            return new ExportSpec(name, ExportSpec.Kind.FILE, scratch, -1, false, List.of(), shape.cache(), false);
        }
        if (shape.kind() == ExportSpec.Kind.MEMORY) {
            return new ExportSpec(
                    name,
                    ExportSpec.Kind.MEMORY,
                    null,
                    Math.min(shape.size(), SPAN),
                    shape.readOnly(),
                    List.of(),
                    shape.cache(),
                    false);
        }
        return new ExportSpec(name, ExportSpec.Kind.FILE, shape.path(), -1, true, List.of(), shape.cache(), false);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // A temporary directory left behind costs nothing; the warm-up itself went through.
        }
    }
}
