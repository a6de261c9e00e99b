package dev.faultdisk.cli;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.server.ListenException;
import dev.faultdisk.server.WarmUp;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code faultdisk serve}: serves exports over NBD until interrupted. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description =
                "Serve disk images over NBD, controlled over QMP. With no options: export disk0, an in-memory 1 GiB disk, on NBD 127.0.0.1:10809, QMP on 127.0.0.1:4444.",
        footer = {
            "  faultdisk serve",
            "  faultdisk serve --export disk0=memory:10G --export data=/var/tmp/data.img,size=4G",
            "  faultdisk serve --export golden=/images/base.raw,readonly --nbd unix:/tmp/faultdisk.sock",
            "  faultdisk serve --export disk0=memory:1G,cache=writeback",
            "  faultdisk serve --journal /var/tmp/faults.jsonl --seed 42",
            "  faultdisk serve --config faultdisk.json",
            "",
            "Ctrl-C or SIGTERM closes connections cleanly and flushes file-backed exports."
        })
final class ServeCommand implements Callable<Integer> {

    @Option(
            names = "--export",
            paramLabel = "NAME=SPEC",
            description = "An export (repeatable). SPEC is memory:SIZE, a path to a raw image, or "
                    + "blkdebug:CONF:IMAGE (QEMU's syntax: blkdebug rules from the file CONF over IMAGE); "
                    + "options: ,size=SIZE creates a missing image sparse (or extends it), ,readonly, "
                    + ",rules=FILE loads a blkdebug rules file, "
                    + ",cache=writethrough|writeback|lying-flush (the simulated write cache; default writethrough), "
                    + ",locking=off serves an image without the lock that keeps other faultdisk servers from writing it. "
                    + "Default: disk0=memory:1G.")
    List<String> exports = new ArrayList<>();

    @Option(
            names = "--nbd",
            paramLabel = "HOST:PORT|unix:PATH",
            defaultValue = "127.0.0.1:10809",
            description = "Where to listen for NBD clients (default: ${DEFAULT-VALUE}).")
    String nbdAddress;

    @Option(
            names = "--qmp",
            paramLabel = "HOST:PORT|unix:PATH",
            description = "Where to listen for QMP control clients (repeatable; default 127.0.0.1:4444). "
                    + "--qmp none turns the control socket off. unix:PATH,mode=0660 sets the socket's "
                    + "permissions (default 0600).")
    List<String> qmpAddresses = new ArrayList<>();

    @Option(
            names = "--http",
            paramLabel = "[HOST:]PORT",
            description = "Serve the dashboard, the HTTP API (every QMP command, events, OpenAPI) and the "
                    + "Prometheus metrics on HOST:PORT (HOST defaults to 127.0.0.1); docs/HTTP.md.")
    String httpAddress;

    @Option(
            names = "--metrics",
            paramLabel = "[HOST:]PORT",
            description = "Serve only the Prometheus metrics at /metrics on HOST:PORT (HOST defaults to "
                    + "127.0.0.1); docs/METRICS.md. Either option also records request latencies.")
    String metricsAddress;

    @Option(
            names = "--journal",
            paramLabel = "FILE",
            description = "Write the fault journal to FILE as JSON lines: every injected fault, rule change "
                    + "(with the rules' seeds) and release of a held request. QMP query-fault-journal shows "
                    + "the latest entries either way.")
    Path journal;

    @Option(
            names = "--seed",
            paramLabel = "N",
            description = "The seed fault rules without their own seed derive theirs from (default: random).")
    Long seed;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description =
                    "Serve what FILE (JSON, docs/CONFIG.md) declares: exports, fault rules, presets, blkdebug rules, "
                            + "triggers, commands, seed, journal, listen addresses. Checked whole first: any problem names "
                            + "the file, line and member, and nothing starts. Not with the other options.")
    Path config;

    @Option(
            names = "--warm-up",
            paramLabel = "DURATION",
            defaultValue = "0s",
            description = "Before listening, run the request path for about DURATION (e.g. 1s) on private "
                    + "exports, one like each kind of export served, so that the first client is served by compiled code "
                    + "rather than the JVM's interpreter: for injected delays exact from the first request "
                    + "(docs/GUIDE.md). Nothing of it reaches the real exports. Default: none.")
    Duration warmUp;

    @Mixin
    ServeLimits limits = new ServeLimits();

    @Spec
    CommandSpec spec;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        FaultdiskServer.Builder builder = FaultdiskServer.builder();
        try {
            limits.apply(builder);
            builder.warmUp(warmUp);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("faultdisk serve: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (config != null) {
            Integer refused = fromConfig(builder);
            if (refused != null) {
                return refused;
            }
            return serve(builder);
        }
        try {
            for (String e : exports.isEmpty() ? List.of("disk0=memory:1G") : exports) {
                builder.export(ExportSpec.parse(e));
            }
            Endpoints.Listen nbd = Endpoints.parseWithMode(nbdAddress);
            builder.nbd(nbd.address(), nbd.unixMode());
            if (journal != null) {
                builder.journal(journal);
            }
            if (httpAddress != null) {
                builder.http(Endpoints.tcp(httpAddress));
            }
            if (metricsAddress != null) {
                builder.metrics(Endpoints.tcp(metricsAddress));
            }
            if (seed != null) {
                builder.faultSeed(seed);
            }
            for (String q : qmpAddresses.isEmpty() ? List.of("127.0.0.1:4444") : qmpAddresses) {
                if (!q.equals("none")) {
                    Endpoints.Listen listen = Endpoints.parseWithMode(q);
                    builder.qmp(listen.address(), listen.unixMode());
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("faultdisk serve: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        return serve(builder);
    }

    /** Loads --config into {@code builder}; returns an exit code if it cannot start. */
    private Integer fromConfig(FaultdiskServer.Builder builder) {
        for (String option : List.of("--export", "--nbd", "--qmp", "--journal", "--seed")) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                System.err.println("faultdisk serve: --config declares everything; " + option + " goes in the file");
                return ExitCodes.USAGE;
            }
        }
        try {
            ServeConfig.Loaded loaded = ServeConfig.load(config, builder);
            journal = loaded.journal();
            return null;
        } catch (ServeConfig.ConfigException e) {
            for (String problem : e.problems()) {
                System.err.println("faultdisk serve: " + problem);
            }
            System.err.println("faultdisk serve: nothing started");
            return ExitCodes.USAGE;
        }
    }

    private int serve(FaultdiskServer.Builder builder) throws InterruptedException {
        FaultdiskServer server;
        try {
            server = builder.start();
        } catch (ListenException e) {
            String option = switch (e.socket()) {
                case NBD -> "--nbd";
                case QMP -> "--qmp";
                case HTTP -> "--http";
                case METRICS -> "--metrics";
            };
            String hint =
                    e.addressInUse() ? "; is another faultdisk running? choose another address with " + option : "";
            System.err.println("faultdisk serve: " + e.getMessage() + " (" + option + hint + ")");
            return ExitCodes.FAILED;

        } catch (IOException | IllegalArgumentException e) {
            System.err.println("faultdisk serve: " + e.getMessage());
            return ExitCodes.FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                server.close();
                            } catch (IOException e) {
                                System.err.println("faultdisk: flushing exports failed: " + e.getMessage());
                            }
                            out.println("faultdisk: stopped; exports flushed.");
                            out.flush();
                            stopped.countDown();
                        },
                        "faultdisk-shutdown"));
        printBanner(server);
        stopped.await();
        return ExitCodes.OK;
    }

    private void printBanner(FaultdiskServer server) {
        SocketAddress bound = server.nbdAddress();
        List<SocketAddress> qmp = server.qmpAddresses();
        ExportRegistry registry = server.exports();
        out.println("faultdisk: serving NBD on " + describe(bound));
        WarmUp.Report warm = server.warmUp();
        if (warm != null && warm.failure() == null) {
            out.printf(
                    "faultdisk: warmed up with %,d requests over %d connections%s%s in %.1f s%n",
                    warm.requests(),
                    warm.connections(),
                    warm.exports() > 1 ? " (" + warm.exports() + " kinds of export)" : "",
                    switch (warm.handshakes()) {
                        case 0 -> "";
                        case 1 -> " and 1 TLS handshake";
                        default -> String.format(" and %d TLS handshakes", warm.handshakes());
                    },
                    warm.took().toMillis() / 1000.0);
        } else if (warm != null) {
            out.println("faultdisk: the warm-up failed (" + warm.failure() + "); serving without it");
        }
        for (SocketAddress q : qmp) {
            out.println("faultdisk: QMP control on " + describe(q));
        }
        if (server.http() != null) {
            out.println("faultdisk: dashboard and HTTP API on " + server.http().url());
        }
        if (server.metricsUrl() != null) {
            out.println("faultdisk: Prometheus metrics on " + server.metricsUrl());
        }
        for (Export e : registry.all()) {
            out.println("  export " + e.name() + ": " + e.description());
        }
        String first = registry.all().getFirst().name();
        out.println();
        out.println("Attach it with, for example:");
        AttachHints.lines(bound, first, server.nbd().options()).forEach(out::println);
        if (!qmp.isEmpty()) {
            out.println("Control it over QMP, for example:");
            if (qmp.getFirst() instanceof InetSocketAddress q) {
                out.println("  socat - TCP:" + q.getHostString() + ":" + q.getPort()
                        + "   then type: {\"execute\": \"qmp_capabilities\"} and {\"execute\": \"query-block\"}");
                out.println("  then inject a fault, e.g. {\"execute\": \"fault-add\", \"arguments\": {\"device\": \""
                        + first + "\", \"rules\": [{\"type\": \"delay\", \"ops\": [\"read\"], \"ms\": 10}]}}");
            }
        }
        out.println(
                "Fault seed " + server.faultSeed() + (journal != null ? "; fault journal in " + journal : "") + ".");
        out.println("Stop with Ctrl-C.");
        out.flush();
    }

    private static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getHostString() + ":" + inet.getPort();
        }
        return "unix:" + ((UnixDomainSocketAddress) address).getPath();
    }
}
