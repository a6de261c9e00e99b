package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.ONE_EXPORT;

import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * query-latency: the latency histograms of the metrics, for clients that chart them without
 * Prometheus (the dashboard, {@code faultdisk top}).
 */
final class MetricsCommands {
    private MetricsCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports, ServerMetrics metrics) {
        commands.register(QmpCommand.builder("query-latency")
                .doc("""
                        Per-export, per-operation latency histograms, from a request's arrival to its reply, counted
                        since the server started: the buckets' upper bounds in seconds (the last bucket, one more than
                        the bounds, is unbounded) and per operation its count, sum of seconds and count per bucket (not
                        cumulative). Recorded only when the server serves metrics (serve --metrics or --http); otherwise
                        the command fails.""")
                .argument(ONE_EXPORT)
                .returns(
                        "{\"bounds\": [number], \"exports\": [{\"device\": str, \"ops\": [{\"op\": str, \"count\": int,"
                                + " \"sum\": number, \"counts\": [int]}]}]}")
                .example("-> {\"execute\": \"query-latency\", \"arguments\": {\"device\": \"disk0\"}}")
                .example(
                        "<- {\"return\": {\"bounds\": [1e-05, 1.5e-05, ...], \"exports\": [{\"device\": \"disk0\","
                                + " \"ops\": [{\"op\": \"read\", \"count\": 120, \"sum\": 0.0061, \"counts\": [0, 3, ...]}, ...]}]}}")
                .handler(args -> {
                    String device = args.has("device") ? args.string("device") : null;
                    if (device != null) {
                        BlockCommands.export(exports, device);
                    }
                    if (!metrics.timesRequests()) {
                        throw QmpError.generic(
                                "Latency is not recorded: start the server with --metrics or --http to record it");
                    }
                    return latency(metrics.latencies(), device);
                })
                .build());
    }

    private static Map<String, Object> latency(HistogramSnapshot snapshot, String device) {
        Map<String, Map<String, Object>> byExport = new LinkedHashMap<>();
        for (HistogramSnapshot.HistogramDataPointSnapshot p : snapshot.getDataPoints()) {
            String export = p.getLabels().get("export");
            if (device != null && !device.equals(export)) {
                continue;
            }
            ClassicHistogramBuckets buckets = p.getClassicBuckets();
            List<Long> counts = new ArrayList<>(buckets.size());
            for (int i = 0; i < buckets.size(); i++) {
                counts.add(buckets.getCount(i));
            }
            Map<String, Object> op = new LinkedHashMap<>();
            op.put("op", p.getLabels().get("op"));
            op.put("count", p.getCount());
            op.put("sum", p.getSum());
            op.put("counts", counts);
            @SuppressWarnings("unchecked")
            List<Object> ops = (List<Object>) byExport.computeIfAbsent(export, e -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("device", e);
                        m.put("ops", new ArrayList<>());
                        return m;
                    })
                    .get("ops");
            ops.add(op);
        }
        List<Double> bounds = new ArrayList<>();
        for (double b : ServerMetrics.bounds(snapshot)) {
            if (Double.isFinite(b)) {
                bounds.add(b);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bounds", bounds);
        out.put("exports", new ArrayList<>(byExport.values()));
        return out;
    }
}
