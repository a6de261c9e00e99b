package dev.faultdisk.cli;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.wire.json.Json;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code faultdisk top}: the dashboard's live view in a terminal. */
@Command(
        name = "top",
        mixinStandardHelpOptions = true,
        description = {
            "Show live per-export IOPS, throughput and latency percentiles, fault rules with their fire counts,"
                    + " held requests, blkdebug breakpoints, the write cache and the last events, refreshed"
                    + " every --interval (the dashboard of serve --http, in a terminal).",
            "Latency needs a server that records it (serve --http or --metrics)."
        },
        footer = {"  faultdisk top", "  faultdisk top disk0 --interval 2s", "  faultdisk top --frames 1 > snapshot.txt"
        })
final class TopCommand extends OneOrAllExportsCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
    private static final int EVENTS_SHOWN = 8;

    @Option(
            names = "--interval",
            paramLabel = "DURATION",
            defaultValue = "1s",
            description = "Time between frames (default: ${DEFAULT-VALUE}).")
    Duration interval;

    @Option(
            names = "--frames",
            paramLabel = "N",
            description =
                    "Stop after N frames (default: until Ctrl-C; the screen is cleared between frames on a terminal).")
    Integer frames;

    private final Deque<Event> events = new ArrayDeque<>();

    @Override
    Integer before() {
        if (frames != null && frames < 1) {
            throw new UsageException("--frames must be at least 1");
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new UsageException("--interval must be positive");
        }
        return null;
    }

    @Override
    int run(FaultdiskClient client) throws InterruptedException {
        client.addListener(e -> {
            synchronized (events) {
                events.addFirst(e);
                while (events.size() > EVENTS_SHOWN) {
                    events.removeLast();
                }
            }
        });
        boolean clear = frames == null && System.console().isTerminal();
        Sample last = sample(client);
        for (int frame = 0; frames == null || frame < frames; frame++) {
            Thread.sleep(interval);
            Sample now = sample(client);
            if (clear) {
                out().print("\033[H\033[2J");
            }
            print(client, last, now);
            last = now;
        }
        return ExitCodes.OK;
    }

    /** Counters and histograms at one moment. */
    private record Sample(long nanos, Map<String, Map<String, Object>> stats, Map<String, Object> latency) {}

    @SuppressWarnings("unchecked")
    private Sample sample(FaultdiskClient client) {
        Map<String, Map<String, Object>> stats = new HashMap<>();
        for (String d : devices(client)) {
            List<Map<String, Object>> s =
                    (List<Map<String, Object>>) client.execute("query-blockstats", FaultdiskClient.args("device", d));
            stats.put(d, (Map<String, Object>) s.getFirst().get("stats"));
        }
        Map<String, Object> latency;
        try {
            latency = (Map<String, Object>) client.execute("query-latency");
        } catch (QmpException e) {
            latency = null; // a server that does not record latency: the rest still shows
        }
        return new Sample(System.nanoTime(), stats, latency);
    }

    @SuppressWarnings("unchecked")
    private void print(FaultdiskClient client, Sample last, Sample now) {
        double seconds = (now.nanos - last.nanos) / 1e9;
        out().println("faultdisk top: " + client.address() + " at "
                + LocalTime.now(ZoneId.systemDefault()).format(TIME)
                + (now.latency == null ? " (latency not recorded: serve --http or --metrics records it)" : ""));
        Table rates = new Table(
                "EXPORT", "IOPS", "READ/s", "WRITE/s", "READ MiB/s", "WRITE MiB/s", "p50", "p90", "p99", "ERRORS/s");
        for (String d : devices(client)) {
            Map<String, Object> a = last.stats.get(d);
            Map<String, Object> b = now.stats.get(d);
            if (a == null || b == null) {
                continue;
            }
            double total = 0;
            double errors = 0;
            for (String op : b.keySet()) {
                total += rate(a, b, op, "operations", seconds);
                errors += rate(a, b, op, "errors", seconds);
            }
            double[] p = quantiles(d, last.latency, now.latency);
            rates.row(
                    d,
                    fixed(total, 0),
                    fixed(rate(a, b, "read", "operations", seconds), 0),
                    fixed(rate(a, b, "write", "operations", seconds), 0),
                    fixed(rate(a, b, "read", "bytes", seconds) / 1048576, 1),
                    fixed(rate(a, b, "write", "bytes", seconds) / 1048576, 1),
                    ms(p[0]),
                    ms(p[1]),
                    ms(p[2]),
                    fixed(errors, 0));
        }
        rates.print(out());
        out().println();
        List<Map<String, Object>> faults = (List<Map<String, Object>>) execute(client, "query-faults");
        Table rules = new Table("EXPORT", "RULE", "TYPE", "STATE", "FIRED");
        faults.forEach(r -> rules.row(r.get("device"), r.get("id"), r.get("type"), r.get("state"), r.get("fired")));
        section("fault rules", faults.size(), rules);
        List<Map<String, Object>> held = (List<Map<String, Object>>) execute(client, "query-held-requests");
        Table heldTable = new Table("EXPORT", "ID", "OPERATION", "OFFSET", "LENGTH", "SINCE");
        held.forEach(h -> heldTable.row(
                h.get("device"), h.get("id"), h.get("operation"), h.get("offset"), h.get("length"), h.get("since")));
        section("held requests", held.size(), heldTable);
        Table cache = new Table("EXPORT", "MODE", "DIRTY BYTES", "FLUSHES", "POWER CUTS", "BREAKPOINTS", "SUSPENDED");
        for (String d : devices(client)) {
            Map<String, Object> c =
                    (Map<String, Object>) client.execute("query-write-cache", FaultdiskClient.args("device", d));
            Map<String, Object> bp = (Map<String, Object>)
                    client.execute("query-blkdebug-breakpoints", FaultdiskClient.args("device", d));
            cache.row(
                    d,
                    c.get("mode"),
                    c.get("dirty-bytes"),
                    c.get("flushes"),
                    c.get("power-fails"),
                    ((List<?>) bp.get("breakpoints")).size(),
                    ((List<?>) bp.get("suspended")).size());
        }
        section("write cache and blkdebug", 1, cache);
        List<Event> recent;
        synchronized (events) {
            recent = List.copyOf(events);
        }
        out().println("last events:" + (recent.isEmpty() ? " none" : ""));
        for (Event e : recent) {
            String line = TIME.format(e.timestamp().atZone(ZoneId.systemDefault())) + " " + e.name() + " "
                    + Json.write(e.data());
            out().println("  " + (line.length() > 160 ? line.substring(0, 157) + "..." : line));
        }
        out().println();
        out().flush();
    }

    private Object execute(FaultdiskClient client, String command) {
        return device == null
                ? client.execute(command)
                : client.execute(command, FaultdiskClient.args("device", device));
    }

    private void section(String title, int size, Table table) {
        if (size == 0) {
            out().println(title + ": none");
        } else {
            out().println(title + ":");
            table.print(out());
        }
        out().println();
    }

    @SuppressWarnings("unchecked")
    private static double rate(Map<String, Object> a, Map<String, Object> b, String op, String what, double s) {
        Map<String, Object> x = (Map<String, Object>) a.get(op);
        Map<String, Object> y = (Map<String, Object>) b.get(op);
        if (x == null || y == null || s <= 0) {
            return 0;
        }
        return Math.max(0, ((Number) y.get(what)).longValue() - ((Number) x.get(what)).longValue()) / s;
    }

    /** p50, p90 and p99 of the requests between the two samples (all operations), NaN if none. */
    @SuppressWarnings("unchecked")
    private static double[] quantiles(String device, Map<String, Object> a, Map<String, Object> b) {
        double[] none = {Double.NaN, Double.NaN, Double.NaN};
        if (a == null || b == null) {
            return none;
        }
        List<Double> bounds = ((List<Number>) b.get("bounds"))
                .stream().map(Number::doubleValue).toList();
        long[] before = counts(device, a, bounds.size() + 1);
        long[] after = counts(device, b, bounds.size() + 1);
        long[] delta = new long[after.length];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = Math.max(0, after[i] - before[i]);
        }
        return new double[] {
            LatencyQuantiles.quantile(0.5, bounds, delta),
            LatencyQuantiles.quantile(0.9, bounds, delta),
            LatencyQuantiles.quantile(0.99, bounds, delta)
        };
    }

    /** The export's bucket counts summed over its operations. */
    @SuppressWarnings("unchecked")
    private static long[] counts(String device, Map<String, Object> latency, int buckets) {
        long[] sum = new long[buckets];
        for (Map<String, Object> e : (List<Map<String, Object>>) latency.get("exports")) {
            if (!device.equals(e.get("device"))) {
                continue;
            }
            for (Map<String, Object> op : (List<Map<String, Object>>) e.get("ops")) {
                List<Number> counts = (List<Number>) op.get("counts");
                for (int i = 0; i < Math.min(buckets, counts.size()); i++) {
                    sum[i] += counts.get(i).longValue();
                }
            }
        }
        return sum;
    }

    private static String fixed(double value, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static String ms(double seconds) {
        return Double.isNaN(seconds) ? "-" : String.format(Locale.ROOT, "%.3fms", seconds * 1000);
    }
}
