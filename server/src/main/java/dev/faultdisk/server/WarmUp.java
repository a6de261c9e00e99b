package dev.faultdisk.server;

import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Runs a server's request path before its first client does ({@code serve --warm-up}): the JVM
 * compiles code as it runs it, so without this the first client's first fraction of a second is
 * served by the interpreter and the JIT's first compiles, tens of milliseconds a request at queue
 * depth 64 where later ones take one (docs/BENCHMARKS.md, "This round (after cc6909a)"). A private
 * server on the same kind of transport, with a private export for each kind of real export
 * ({@link WarmUpExports}) and no control socket, journal or metrics, is driven by {@link
 * WarmUpClient} over four connections to each in turn, plain and with a 1 ms delay on reads and
 * writes, then closed. Where the server speaks TLS, so does the private one ({@link WarmUpTls}): a
 * quarter of the time goes to handshakes alone, and the connections run over TLS (half of them,
 * where it is optional). The connections' log lines are formatted, not published ({@link
 * WarmUpLogs}). Its garbage is left to the collector: a full collection here would shrink the
 * heap, which the first client's run then grows back by up to 56 MiB, where without it resident
 * memory stays flat over that run. Nothing of it reaches the real server: no request is counted
 * there, no event or journal entry is made, no byte of an image is written.
 */
public final class WarmUp {
    /** Connections to each private export. */
    private static final int CONNECTIONS = 4;

    /** Over TLS, the part of the warm-up spent on handshakes alone (one over this). */
    private static final int HANDSHAKE_SHARE = 4;

    private static final int MAX_HANDSHAKES = 200;

    /** The private server's connection budget, whatever the real one's. */
    private static final int PRIVATE_CONNECTIONS = 64;

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
     * at most {@link WarmUpExports#MAX_KINDS}), over a transport of the kind of {@code listen}, with {@code
     * options}' budgets and kind of TLS, each request timed if {@code timeRequests} (as a server
     * with metrics times them, in a registry of the private server's own), for about {@code
     * duration}.
     */
    static Report run(
            List<ExportSpec> exports,
            SocketAddress listen,
            NbdServer.Options options,
            boolean timeRequests,
            Duration duration)
            throws IOException {
        long start = System.nanoTime();
        WarmUpTls tls = WarmUpTls.of(options);
        // The real budgets shape the request path, but for the connection count (the private
        // connections come one after another, and a closed one may not be released yet) and the
        // handshake's time (the first TLS handshake runs in the interpreter: half a second).
        NbdServer.Options plain = new NbdServer.Options(
                PRIVATE_CONNECTIONS,
                options.maxInFlight(),
                options.payloadBudget(),
                max(options.handshakeTimeout(), NbdServer.Options.DEFAULT_HANDSHAKE_TIMEOUT),
                TlsMode.OFF,
                null,
                null);
        Path socketDir = null;
        SocketAddress privateAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (listen instanceof UnixDomainSocketAddress) {
            socketDir = Files.createTempDirectory("faultdisk-warm-up");
            privateAddress = UnixDomainSocketAddress.of(socketDir.resolve("nbd.sock"));
        }
        // The private connections are not the user's: their opening and closing lines would only confuse.
        try (WarmUpLogs logs = WarmUpLogs.hold();
                WarmUpExports exportsWarmed = WarmUpExports.of(exports)) {
            List<ExportSpec> copies = exportsWarmed.copies();
            FaultdiskServer.Builder builder = FaultdiskServer.builder();
            copies.forEach(builder::export);
            try (FaultdiskServer server = builder.nbd(privateAddress)
                    .nbdOptions(tls == null ? plain : tls.serve(plain, options.tlsMode()))
                    .timeRequests(timeRequests)
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
            if (socketDir != null) {
                WarmUpExports.deleteTree(socketDir);
            }
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
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
}
