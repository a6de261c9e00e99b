package dev.faultdisk.server;

import dev.faultdisk.cache.CacheStatus;
import dev.faultdisk.device.DeviceStats;
import dev.faultdisk.device.RequestTimer;
import dev.faultdisk.device.SlabMemory;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultListener;
import dev.faultdisk.fault.FaultRecord;
import dev.faultdisk.nbd.ConnectionInfo;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.trigger.TriggerEngine;
import dev.faultdisk.trigger.TriggerFiring;
import dev.faultdisk.trigger.TriggerListener;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The server's Prometheus metrics (docs/METRICS.md), in a registry of their own. Counters the
 * server keeps anyway (requests, bytes and errors per operation, the write cache's flushes and
 * power cuts, connections, held requests) are read when scraped, so they cost the data path
 * nothing more; faults and trigger firings are counted as their listeners hear them; the latency
 * histograms are recorded by the NBD frontend, and only when {@link #timesRequests()}.
 */
public final class ServerMetrics {
    /**
     * Latency bucket bounds in seconds: 2 µs times powers of 1.5 up to about 110 s, so that a
     * quantile read from the buckets is within a factor 1.5 of the truth from a hang to a cache hit.
     */
    static final int BUCKETS = 45;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ExportRegistry exports;
    private final boolean timed;
    private final Histogram latency;
    private final Counter faults;
    private final Counter triggersFired;

    ServerMetrics(ExportRegistry exports, NbdServer nbd, QmpServer qmp, TriggerEngine triggers, boolean timeRequests) {
        this.exports = exports;
        this.timed = timeRequests;
        perOp("faultdisk_nbd_requests_total", "Requests that reached the export's device stack.", DeviceStats::ops);
        perOp(
                "faultdisk_nbd_bytes_total",
                "Bytes of successful requests (read, written, trimmed, zeroed).",
                DeviceStats::bytes);
        CounterWithCallback.builder()
                .name("faultdisk_nbd_errors_total")
                .help("Failed requests by errno (injected or real).")
                .labelNames("export", "op", "errno")
                .callback(cb -> {
                    for (Export e : exports.all()) {
                        for (BlockOp op : BlockOp.values()) {
                            e.stats()
                                    .errorsByErrno(op)
                                    .forEach((errno, n) -> cb.call(
                                            n.doubleValue(), e.name(), DeviceStats.statName(op), Errno.name(errno)));
                        }
                    }
                })
                .register(registry);
        this.latency = Histogram.builder()
                .name("faultdisk_nbd_request_duration_seconds")
                .help("Time from a request's arrival at the server to its reply.")
                .labelNames("export", "op")
                .classicOnly()
                .classicExponentialUpperBounds(0.000002, 1.5, BUCKETS)
                .withoutExemplars()
                .register(registry);
        GaugeWithCallback.builder()
                .name("faultdisk_nbd_connections")
                .help("NBD connections open now, by the export they chose (empty during the handshake).")
                .labelNames("export")
                .callback(cb -> {
                    Map<String, Integer> counts = new HashMap<>();
                    for (Export e : exports.all()) {
                        counts.put(e.name(), 0);
                    }
                    for (ConnectionInfo c : nbd.connections()) {
                        counts.merge(c.export() == null ? "" : c.export(), 1, Integer::sum);
                    }
                    counts.forEach((name, n) -> cb.call(n, name));
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("faultdisk_qmp_sessions")
                .help("QMP sessions open now.")
                .callback(cb -> cb.call(qmp.sessionCount()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("faultdisk_memory_exports_mapped_bytes")
                .help("Memory mapped for all memory exports' pages (slabs of 2 MiB), against --memory-limit.")
                .callback(cb -> cb.call((double) SlabMemory.process().mappedBytes()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("faultdisk_memory_exports_limit_bytes")
                .help("The memory all memory exports' pages may take (serve --memory-limit).")
                .callback(cb -> cb.call((double) SlabMemory.process().limit()))
                .register(registry);
        CounterWithCallback.builder()
                .name("faultdisk_memory_exports_refusals")
                .help(
                        "Slabs refused to memory exports at --memory-limit or --memory-reserve (each a write failed with ENOSPC).")
                .callback(cb -> cb.call((double) SlabMemory.process().refusals()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("faultdisk_memory_exports_reserve_bytes")
                .help("The memory memory exports leave to the rest of the system (serve --memory-reserve; 0: none).")
                .callback(cb -> cb.call((double) SlabMemory.process().systemReserve()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("faultdisk_memory_available_bytes")
                .help("Memory available to this process now, as the reserve measures it (MemAvailable, or in a "
                        + "container the room below its memory limit less the heap's room to grow, where less).")
                .callback(cb -> {
                    long available = SlabMemory.process().systemAvailable();
                    if (available >= 0) { // no sample where the system does not say
                        cb.call((double) available);
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("faultdisk_nbd_data_paths_total")
                .help("Requests whose data took a way other than a buffer the reader copies it through, by way "
                        + "(docs/ARCHITECTURE.md): reads sent from an image file or a memory export's pages, sealed "
                        + "by TLS from a file, read through io_uring; writes spliced through a pipe into a file, "
                        + "received into a memory export's pages; large writes run off a Unix socket's reader.")
                .labelNames("path")
                .callback(cb -> {
                    cb.call((double) nbd.readsSentFromFile(), "read_from_file");
                    cb.call((double) nbd.readsSentFromMemory(), "read_from_memory");
                    cb.call((double) nbd.readsSealedFromFile(), "read_sealed_from_file");
                    cb.call((double) nbd.readsThroughIoUring(), "read_io_uring");
                    cb.call((double) nbd.writesThroughPipe(), "write_through_pipe");
                    cb.call((double) nbd.writesIntoPages(), "write_into_pages");
                    cb.call((double) nbd.writesOffReader(), "write_off_reader");
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("faultdisk_qmp_events_dropped")
                .help("Events dropped for QMP sessions that fell behind (each was told with EVENTS_DROPPED).")
                .callback(cb -> cb.call((double) qmp.eventsDropped()))
                .register(registry);
        this.faults = Counter.builder()
                .name("faultdisk_faults_injected_total")
                .help("Faults fault rules injected, by export, rule id and fault type.")
                .labelNames("export", "rule", "type")
                .register(registry);
        perExport(
                "faultdisk_fault_rules",
                "Fault rules in force.",
                e -> e.faults().rules().size());
        perExport(
                "faultdisk_held_requests",
                "Requests held now by hang rules and triggers.",
                e -> e.faults().held().size());
        perExport(
                "faultdisk_blkdebug_suspended_requests",
                "Requests suspended now at blkdebug breakpoints.",
                e -> e.blkdebug().suspended().size());
        perExport(
                "faultdisk_write_cache_dirty_bytes",
                "Bytes acknowledged but not yet durable in the simulated write cache.",
                e -> e.writeCache().status().dirtyBytes());
        cacheCounter(
                "faultdisk_write_cache_flushes_total", "Flushes that persisted the write cache.", CacheStatus::flushes);
        cacheCounter(
                "faultdisk_write_cache_lying_flushes_total",
                "Flushes acknowledged without persisting anything (lying-flush mode).",
                CacheStatus::lyingFlushes);
        cacheCounter("faultdisk_power_failures_total", "Power cuts of the export.", CacheStatus::powerFails);
        this.triggersFired = Counter.builder()
                .name("faultdisk_triggers_fired_total")
                .help("Trigger firings, by trigger (its name, or its id if it has none).")
                .labelNames("trigger")
                .register(registry);
        triggers.addListener(new TriggerListener() {
            @Override
            public void fired(TriggerFiring firing) {
                String name = firing.name() == null || firing.name().isEmpty()
                        ? Long.toString(firing.trigger())
                        : firing.name();
                triggersFired.labelValues(name).inc();
            }
        });
    }

    /** The registry every metric is in (scraped by {@code --metrics} and the HTTP server's {@code /metrics}). */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** True if the frontend times requests, i.e. the latency histograms fill. */
    public boolean timesRequests() {
        return timed;
    }

    /** Once per export, before clients reach it: its fault counts and, if timed, its latencies. */
    void wire(Export export) {
        // A rule's labels never change: its data point is looked up once, not built again for every
        // firing (a delay rule fires on every request it matches).
        Map<Long, CounterDataPoint> byRule = new ConcurrentHashMap<>();
        export.faults().addListener(new FaultListener() {
            @Override
            public void injected(FaultRecord r) {
                CounterDataPoint point = byRule.get(r.rule());
                if (point == null) { // looked up first: the lambda below captures r, so it is made per call
                    point = byRule.computeIfAbsent(
                            r.rule(), id -> faults.labelValues(r.export(), Long.toString(id), r.type()));
                }
                point.inc();
            }
        });
        if (timed) {
            DistributionDataPoint[] points = new DistributionDataPoint[BlockOp.values().length];
            for (BlockOp op : BlockOp.values()) {
                points[op.ordinal()] = latency.labelValues(export.name(), DeviceStats.statName(op));
            }
            RequestTimer timer = (op, nanos) -> points[op.ordinal()].observe(nanos / 1e9);
            export.timeRequestsWith(timer);
        }
    }

    /** The latency histograms as Prometheus has them now (cumulative since start). */
    HistogramSnapshot latencies() {
        return latency.collect();
    }

    /** Upper bounds of the latency buckets, in seconds (the last is +Inf). */
    static double[] bounds(HistogramSnapshot snapshot) {
        for (HistogramSnapshot.HistogramDataPointSnapshot p : snapshot.getDataPoints()) {
            ClassicHistogramBuckets b = p.getClassicBuckets();
            double[] out = new double[b.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getUpperBound(i);
            }
            return out;
        }
        return new double[0];
    }

    private void perOp(String name, String help, OpCounter counter) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("export", "op")
                .callback(cb -> {
                    for (Export e : exports.all()) {
                        for (BlockOp op : BlockOp.values()) {
                            cb.call((double) counter.read(e.stats(), op), e.name(), DeviceStats.statName(op));
                        }
                    }
                })
                .register(registry);
    }

    private void perExport(String name, String help, ToDoubleFunction<Export> value) {
        GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("export")
                .callback(cb -> {
                    for (Export e : exports.all()) {
                        cb.call(value.applyAsDouble(e), e.name());
                    }
                })
                .register(registry);
    }

    private void cacheCounter(String name, String help, ToDoubleFunction<CacheStatus> value) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("export")
                .callback(cb -> {
                    for (Export e : exports.all()) {
                        cb.call(value.applyAsDouble(e.writeCache().status()), e.name());
                    }
                })
                .register(registry);
    }

    @FunctionalInterface
    private interface OpCounter {
        long read(DeviceStats stats, BlockOp op);
    }
}
