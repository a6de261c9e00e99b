package dev.faultdisk.server;

import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.nbd.NbdServer;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Runs a server's request path before its first client does ({@code serve --warm-up}): the JVM
 * compiles code as it runs it, so without this the first client's first fraction of a second is
 * served by the interpreter and the JIT's first compiles, tens of milliseconds a request at queue
 * depth 64 where later ones take one (docs/BENCHMARKS.md, "This round (after cc6909a)"). A private
 * server with one export shaped like the first real export (the same kind, write cache mode and
 * transport; for a writable image an empty scratch file beside it, for a read-only one the image
 * itself read-only; a memory export's copy empty), no control socket, journal or metrics, is driven
 * by {@link WarmUpClient} over four connections in turn, plain and with a 1 ms delay on reads and
 * writes, then closed, and the scratch file removed. Its garbage is left to the collector: a full
 * collection here would shrink the heap, which the first client's run then grows back by up to
 * 56 MiB, where without it resident memory stays flat over that run. The client speaks plain NBD,
 * so over TLS the handshake and the records still start cold, the rest of the path warm. Nothing
 * of it reaches the real server: no request is counted there, no event or journal entry is made,
 * no byte of an image is written.
 */
public final class WarmUp {
    /** The most of a memory export a warm-up makes and touches. */
    private static final long SPAN = 64L << 20;

    private static final int CONNECTIONS = 4;

    /**
     * What a warm-up did, for the banner.
     *
     * @param failure why it stopped short, or null
     */
    public record Report(long requests, int connections, Duration took, String failure) {}

    private WarmUp() {}

    /**
     * Warms the path {@code first} will be served on, over a transport of the kind of {@code
     * listen}, with {@code options} less TLS (the client speaks plain NBD), for about {@code
     * duration}.
     */
    static Report run(ExportSpec first, SocketAddress listen, NbdServer.Options options, Duration duration)
            throws IOException {
        long start = System.nanoTime();
        Path socketDir = null;
        SocketAddress privateAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (listen instanceof UnixDomainSocketAddress) {
            socketDir = Files.createTempDirectory("faultdisk-warm-up");
            privateAddress = UnixDomainSocketAddress.of(socketDir.resolve("nbd.sock"));
        }
        Path scratch = scratchBeside(first);
        ExportSpec spec = privateCopy(first, scratch);
        // The private connections are not the user's: their opening and closing lines would only confuse.
        Logger nbdLog = Logger.getLogger("dev.faultdisk.nbd");
        Level level = nbdLog.getLevel();
        nbdLog.setLevel(Level.WARNING);
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export(spec)
                .nbd(privateAddress)
                .nbdOptions(options.withTls(TlsMode.OFF, null).withPsk(TlsMode.OFF, null))
                .start()) {
            long each = duration.toNanos() / CONNECTIONS;
            long requests = 0;
            for (int i = 0; i < CONNECTIONS; i++) {
                boolean delayed = i % 2 == 1;
                if (delayed) {
                    server.commands()
                            .invoke(
                                    "fault-add",
                                    Map.of(
                                            "device",
                                            spec.name(),
                                            "rules",
                                            List.of(Map.of(
                                                    "type", "delay", "ops", List.of("read", "write"), "ms", 1))));
                }
                try (WarmUpClient client = WarmUpClient.connect(server.nbdAddress(), spec.name())) {
                    // No large reads of an image: they would map it (FileMappings), and a mapping
                    // stays resident until its channel is collected, up to the image's size.
                    boolean memory = spec.kind() == ExportSpec.Kind.MEMORY;
                    requests += client.drive(each, !spec.readOnly(), memory, i);
                }
                if (delayed) {
                    server.commands().invoke("fault-clear", Map.of("device", spec.name()));
                }
            }
            return new Report(requests, CONNECTIONS, Duration.ofNanos(System.nanoTime() - start), null);
        } finally {
            nbdLog.setLevel(level);
            if (socketDir != null) {
                deleteTree(socketDir);
            }
            if (scratch != null) {
                deleteTree(scratch);
            }
        }
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
     * The first export's shape, named apart, without its rules: a memory export's size capped (it
     * starts empty and the warm-up writes what it reads); a writable image's scratch file beside
     * it, else the image opened read-only and unlocked beside the real export.
     */
    private static ExportSpec privateCopy(ExportSpec first, Path scratch) {
        if (scratch != null) {
            return new ExportSpec("warm-up", ExportSpec.Kind.FILE, scratch, -1, false, List.of(), first.cache(), false);
        }
        if (first.kind() == ExportSpec.Kind.MEMORY) {
            return new ExportSpec(
                    "warm-up",
                    ExportSpec.Kind.MEMORY,
                    null,
                    Math.min(first.size(), SPAN),
                    first.readOnly(),
                    List.of(),
                    first.cache(),
                    false);
        }
        return new ExportSpec("warm-up", ExportSpec.Kind.FILE, first.path(), -1, true, List.of(), first.cache(), false);
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
