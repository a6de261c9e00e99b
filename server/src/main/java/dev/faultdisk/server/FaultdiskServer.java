package dev.faultdisk.server;

import dev.faultdisk.device.ThreadScheduling;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.server.http.BearerAuthenticator;
import dev.faultdisk.server.http.HttpControlServer;
import dev.faultdisk.server.http.HttpOptions;
import dev.faultdisk.trigger.TriggerEngine;
import dev.faultdisk.wire.net.ControlEndpoint;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A whole faultdisk: exports, the NBD server that serves them and the QMP server that controls
 * them, with every control command registered. The command line and the JUnit extension both
 * start one of these.
 */
public final class FaultdiskServer implements AutoCloseable {
    private final ExportRegistry exports;
    private final NbdServer nbd;
    private final QmpServer qmp;
    private final CommandRegistry commands;
    private final FaultJournal journal;
    private final JournalFile journalFile;
    private final long faultSeed;
    private final TriggerEngine triggers;
    private final ServerMetrics metrics;
    private HttpControlServer http;
    private HTTPServer metricsServer;
    private InetSocketAddress metricsBound;
    private boolean metricsTls;
    private WarmUp.Report warmUp;

    private FaultdiskServer(
            ExportRegistry exports,
            NbdServer nbd,
            QmpServer qmp,
            CommandRegistry commands,
            FaultJournal journal,
            JournalFile journalFile,
            long faultSeed,
            TriggerEngine triggers,
            ServerMetrics metrics) {
        this.exports = exports;
        this.nbd = nbd;
        this.qmp = qmp;
        this.commands = commands;
        this.journal = journal;
        this.journalFile = journalFile;
        this.faultSeed = faultSeed;
        this.triggers = triggers;
        this.metrics = metrics;
    }

    public static Builder builder() {
        return new Builder();
    }

    public ExportRegistry exports() {
        return exports;
    }

    public NbdServer nbd() {
        return nbd;
    }

    public QmpServer qmp() {
        return qmp;
    }

    /** Every control command, for in-process use and for generating the QMP reference. */
    public CommandRegistry commands() {
        return commands;
    }

    public SocketAddress nbdAddress() {
        return nbd.address();
    }

    public List<SocketAddress> qmpAddresses() {
        return qmp.addresses();
    }

    /** Every injected fault, rule change and release, across exports (the latest entries in memory). */
    public FaultJournal journal() {
        return journal;
    }

    /** The server's triggers (docs/TRIGGERS.md). */
    public TriggerEngine triggers() {
        return triggers;
    }

    /** The server's Prometheus metrics (docs/METRICS.md). */
    public ServerMetrics metrics() {
        return metrics;
    }

    /** The HTTP server (dashboard, API, metrics), or null if none was asked for. */
    public HttpControlServer http() {
        return http;
    }

    /** What {@link Builder#warmUp} did before the server listened, or null without one. */
    public WarmUp.Report warmUp() {
        return warmUp;
    }

    /** The address of the metrics-only listener ({@code --metrics}), or null. */
    public InetSocketAddress metricsAddress() {
        return metricsBound;
    }

    /** The metrics-only listener's URL, e.g. {@code http://127.0.0.1:9464/metrics}, or null. */
    public String metricsUrl() {
        if (metricsBound == null) {
            return null;
        }
        String host = metricsBound.getAddress().getHostAddress();
        return (metricsTls ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + metricsBound.getPort() + "/metrics";
    }

    /** The seed the exports' fault engines derive default rule seeds from. */
    public long faultSeed() {
        return faultSeed;
    }

    /** Stops serving: NBD connections close, QMP sessions end, exports are flushed and closed, the journal file written. */
    @Override
    public void close() throws IOException {
        try {
            if (http != null) {
                http.close();
            }
            if (metricsServer != null) {
                metricsServer.close();
            }
            nbd.shutdown(Duration.ofSeconds(5));
            qmp.close();
        } finally {
            try {
                exports.close();
            } finally {
                if (journalFile != null) {
                    journalFile.close();
                }
            }
        }
    }

    /**
     * A step run on a new server after its commands are registered and before it listens, e.g.
     * fault rules and triggers a config file declares ({@code server.commands().invoke(...)}).
     */
    @FunctionalInterface
    public interface Setup {
        void apply(FaultdiskServer server) throws IOException;
    }

    /** Configures and starts a server. */
    public static final class Builder {
        private final List<ExportSpec> specs = new ArrayList<>();
        private SocketAddress nbdAddress = new InetSocketAddress("127.0.0.1", 10809);
        private final List<SocketAddress> qmpAddresses = new ArrayList<>();
        private final List<String> qmpModes = new ArrayList<>();
        private ControlEndpoint qmpEndpoint = ControlEndpoint.defaults();
        private NbdServer.Options nbdOptions = NbdServer.Options.defaults();
        private int[] faultLimits;
        private long maxHeldBytes;
        private String nbdMode;
        private InstantSource clock = InstantSource.system();
        private FaultTime faultTime = FaultTime.system();
        private Long faultSeed;
        private Path journalPath;
        private int journalCapacity = 10_000;
        private HoldTimeout holdTimeout = HoldTimeout.NONE;
        private final List<Setup> setup = new ArrayList<>();
        private boolean listen = true;
        private InetSocketAddress httpAddress;
        private HttpOptions httpOptions;
        private InetSocketAddress metricsAddress;
        private boolean timeRequests;
        private Duration warmUp = Duration.ZERO;

        private Builder() {}

        /** Runs {@code step} on the server before it listens; steps run in the order given. */
        public Builder setup(Setup step) {
            setup.add(step);
            return this;
        }

        /**
         * Builds the server as {@link #start} would, over memory exports of the same names, sizes
         * and options as the specs, runs the setup steps on it and closes it again: it binds no
         * socket and creates, changes or opens no image file (rule files are read) and writes
         * no journal. An exception is the first problem {@link #start} would meet.
         */
        public void check() throws IOException {
            Builder dry = new Builder();
            for (ExportSpec spec : specs) {
                dry.export(new ExportSpec(
                        spec.name(),
                        ExportSpec.Kind.MEMORY,
                        null,
                        spec.sizeWithoutOpening(),
                        spec.readOnly(),
                        spec.ruleFiles(),
                        spec.cache()));
            }
            dry.clock = clock;
            dry.faultTime = faultTime;
            dry.faultSeed = faultSeed;
            dry.setup.addAll(setup);
            dry.listen = false;
            FaultdiskServer standIn = dry.start();
            try {
                standIn.close();
            } catch (IOException e) {
                // Its data is dropped: a failing flush of it (an armed flush error) says nothing of the setup.
            }
        }

        public Builder export(ExportSpec spec) {
            specs.add(spec);
            return this;
        }

        /** Adds an export given as {@code NAME=SPEC}. */
        public Builder export(String nameEqualsSpec) {
            return export(ExportSpec.parse(nameEqualsSpec));
        }

        public Builder nbd(SocketAddress address) {
            this.nbdAddress = address;
            return this;
        }

        /** The NBD listen address; a Unix socket gets {@code unixMode} (e.g. 0660; null for 0600). */
        public Builder nbd(SocketAddress address, String unixMode) {
            this.nbdAddress = address;
            this.nbdMode = unixMode;
            return this;
        }

        /** Fault budgets of every export: rules, requests held at once and their bytes (docs/SECURITY.md). */
        public Builder faultLimits(int maxRules, int maxHeld, long maxHeldBytes) {
            this.faultLimits = new int[] {maxRules, maxHeld};
            this.maxHeldBytes = maxHeldBytes;
            return this;
        }

        /** The NBD server's budgets and TLS (docs/SECURITY.md). */
        public Builder nbdOptions(NbdServer.Options options) {
            this.nbdOptions = options;
            return this;
        }

        /** Adds a QMP listen address (several are allowed; none means no QMP socket). */
        public Builder qmp(SocketAddress address) {
            return qmp(address, null);
        }

        /** Adds a QMP listen address; a Unix socket gets {@code unixMode} (e.g. 0660; null for 0600). */
        public Builder qmp(SocketAddress address, String unixMode) {
            qmpAddresses.add(address);
            qmpModes.add(unixMode);
            return this;
        }

        /** TLS, shared secret and session budgets of the QMP listeners (docs/SECURITY.md). */
        public Builder qmpEndpoint(ControlEndpoint endpoint) {
            this.qmpEndpoint = endpoint;
            return this;
        }

        /** Serves the dashboard, the HTTP API and the metrics on {@code address} (docs/HTTP.md); times requests. */
        public Builder http(InetSocketAddress address) {
            this.httpAddress = address;
            this.timeRequests = true;
            return this;
        }

        /** The HTTP server's budgets, TLS and secret (default: the QMP socket's, {@link HttpOptions#from}). */
        public Builder httpOptions(HttpOptions options) {
            this.httpOptions = options;
            return this;
        }

        /** Serves only the Prometheus metrics on {@code address} ({@code /metrics}); times requests. */
        public Builder metrics(InetSocketAddress address) {
            this.metricsAddress = address;
            this.timeRequests = true;
            return this;
        }

        /**
         * Before listening, runs the request path for about {@code duration} on a private server
         * with an export for each kind of the real ones ({@link WarmUp}), so that the first client is served by
         * compiled code; zero (the default) for none. A warm-up that fails is reported in {@link
         * FaultdiskServer#warmUp} and the server starts anyway.
         */
        public Builder warmUp(Duration duration) {
            if (duration.isNegative()) {
                throw new IllegalArgumentException("the warm-up cannot be negative: " + duration);
            }
            this.warmUp = duration;
            return this;
        }

        /** Records request latencies (query-latency, the latency histograms) without serving HTTP. */
        public Builder timeRequests(boolean on) {
            this.timeRequests = on;
            return this;
        }

        public Builder clock(InstantSource clock) {
            this.clock = clock;
            return this;
        }

        /** The clock and sleeper fault rules use (tests pass a {@link dev.faultdisk.fault.VirtualTime}). */
        public Builder faultTime(FaultTime faultTime) {
            this.faultTime = faultTime;
            return this;
        }

        /** The seed every export's fault engine derives default rule seeds from (default: random). */
        public Builder faultSeed(long seed) {
            this.faultSeed = seed;
            return this;
        }

        /**
         * Bounds every hold that names no timeout (a hang rule without timeout-ms, a trigger's hold
         * without one), on every export, added ones too: on expiry a hang rule's request fails, a
         * trigger's runs, and a warning names {@code source} (where the bound was set).
         */
        public Builder defaultHoldTimeout(Duration timeout, String source) {
            this.holdTimeout = new HoldTimeout(timeout.toNanos(), source);
            return this;
        }

        /** Also writes the fault journal to this file, as JSON lines (created or truncated). */
        public Builder journal(Path path) {
            this.journalPath = path;
            return this;
        }

        /** The metrics-only listener, with the same TLS and secret as the HTTP server. */
        private static HTTPServer metricsListener(InetSocketAddress address, HttpOptions options, ServerMetrics metrics)
                throws IOException {
            HttpControlServer.limitConnections();
            HTTPServer.Builder b = HTTPServer.builder()
                    .inetAddress(address.getAddress())
                    .port(address.getPort())
                    .registry(metrics.registry());
            if (options.tls() != null) {
                b.httpsConfigurator(HttpControlServer.configurator(options));
            }
            if (options.secret() != null) {
                b.authenticator(new BearerAuthenticator(options.secret()));
            }
            return b.buildAndStart();
        }

        private WarmUp.Report warmUp(List<ExportSpec> exports) {
            long start = System.nanoTime();
            try {
                return WarmUp.run(exports, nbdAddress, nbdOptions, timeRequests, warmUp);
            } catch (IOException | RuntimeException e) {
                return new WarmUp.Report(
                        0, 0, 0, 0, Duration.ofNanos(System.nanoTime() - start), String.valueOf(e.getMessage()));
            }
        }

        /** Opens the exports and starts listening; on failure nothing stays open. */
        public FaultdiskServer start() throws IOException {
            if (specs.isEmpty()) {
                specs.add(ExportSpec.parse("disk0=memory:1G"));
            }
            ExportRegistry registry = new ExportRegistry();
            if (faultLimits != null) {
                registry.faultLimits(faultLimits[0], faultLimits[1], maxHeldBytes);
            }
            NbdServer nbd = null;
            QmpServer qmp = null;
            JournalFile file = null;
            FaultdiskServer server = null;
            long seed = faultSeed != null ? faultSeed : new SplittableRandom().nextLong();
            SplittableRandom exportSeeds = new SplittableRandom(seed);
            try {
                for (ExportSpec spec : specs) {
                    registry.checkImageFree(spec);
                    registry.add(Export.open(spec, faultTime, exportSeeds.nextLong()));
                }
                FaultJournal journal = new FaultJournal(faultTime.clock(), journalCapacity);
                if (journalPath != null) {
                    file = new JournalFile(journalPath);
                    journal.addSink(file::append);
                }
                nbd = new NbdServer(registry, nbdOptions);
                CommandRegistry commands = new CommandRegistry();
                qmp = new QmpServer(
                        commands,
                        QmpServer.Options.defaults()
                                .withClock(clock)
                                .withEndpoint(qmpEndpoint)
                                .withThreadSetup(ThreadScheduling::enter));
                if (file != null) {
                    QmpServer events = qmp;
                    Path where = journalPath;
                    file.onFailure((error, dropped) -> events.emit(
                            "FAULT_JOURNAL_FILE_FAILED",
                            java.util.Map.of("path", where.toString(), "error", error, "dropped", dropped)));
                }
                ControlCommands.Engines engines = ControlCommands.registerAll(
                        commands,
                        registry,
                        nbd,
                        qmp,
                        clock,
                        journal,
                        faultTime,
                        exportSeeds,
                        timeRequests,
                        holdTimeout);
                server = new FaultdiskServer(
                        registry, nbd, qmp, commands, journal, file, seed, engines.triggers(), engines.metrics());
                for (Setup step : setup) {
                    step.apply(server);
                }
                if (listen && !warmUp.isZero()) {
                    server.warmUp = warmUp(specs);
                }
                if (listen) {
                    try {
                        nbd.start(nbdAddress, nbdMode);
                    } catch (IOException e) { // taken, or a Unix socket's directory missing or not writable
                        throw new ListenException(ListenException.Socket.NBD, nbdAddress, e);
                    }
                    for (int i = 0; i < qmpAddresses.size(); i++) {
                        try {
                            qmp.listen(qmpAddresses.get(i), qmpModes.get(i));
                        } catch (IOException e) {
                            throw new ListenException(ListenException.Socket.QMP, qmpAddresses.get(i), e);
                        }
                    }
                    HttpOptions options = httpOptions != null ? httpOptions : HttpOptions.from(qmpEndpoint);
                    if (httpAddress != null) {
                        try {
                            server.http = HttpControlServer.start(
                                    httpAddress, options, commands, qmp, server.metrics.registry());
                        } catch (BindException e) {
                            throw new ListenException(ListenException.Socket.HTTP, httpAddress, e);
                        }
                    }
                    if (metricsAddress != null) {
                        try {
                            server.metricsServer = metricsListener(metricsAddress, options, server.metrics);
                        } catch (BindException e) {
                            throw new ListenException(ListenException.Socket.METRICS, metricsAddress, e);
                        }
                        server.metricsTls = options.tls() != null;
                        server.metricsBound =
                                new InetSocketAddress(metricsAddress.getAddress(), server.metricsServer.getPort());
                    }
                }
                return server;
            } catch (IOException | RuntimeException e) {
                if (server != null && server.http != null) {
                    server.http.close();
                }
                if (nbd != null) {
                    nbd.shutdown(Duration.ZERO);
                }
                if (qmp != null) {
                    qmp.close();
                }
                if (file != null) {
                    try {
                        file.close();
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                try {
                    registry.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
