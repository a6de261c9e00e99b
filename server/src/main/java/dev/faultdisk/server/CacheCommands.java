package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.DEVICE;

import dev.faultdisk.cache.ByteRange;
import dev.faultdisk.cache.CacheStatus;
import dev.faultdisk.cache.PowerFailReport;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The write cache and the power switch: query-write-cache, write-cache-set-mode, power-fail, ... */
final class CacheCommands {
    private static final List<String> CACHE_MODES =
            Arrays.stream(CacheMode.values()).map(CacheMode::label).toList();
    private static final List<String> FAIL_MODES =
            Arrays.stream(PowerFailMode.values()).map(PowerFailMode::label).toList();
    /** Seeds for power failures that name none: drawn from one seeded source and always reported. */
    private static final SplittableRandom SEEDS = new SplittableRandom();

    private CacheCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports, QmpServer qmp) {
        commands.register(QmpCommand.builder("query-write-cache")
                .doc("""
                        The export's volatile write cache: mode, whether the power is on, dirty bytes, dirty ranges and
                        writes, the oldest dirty write's age, and counters.""")
                .argument(DEVICE)
                .returns("WriteCacheInfo")
                .handler(args -> status(BlockCommands.export(exports, args)))
                .build());
        commands.register(QmpCommand.builder("write-cache-set-mode")
                .doc("""
                        Switches the export's cache: writethrough (every acknowledged write is durable), writeback
                        (writes without FUA stay in a volatile cache until a FLUSH completes) or lying-flush (FLUSH and
                        FUA are acknowledged and persist nothing: the nobarrier disk). Leaving a caching mode for
                        writethrough first persists what is dirty and disarms an armed deferred flush error (it stands
                        for a failed cache write-back, and writethrough has no cache left; armed, it would fail the
                        flush of a later, unrelated write): flush-error-disarmed says whether one was.""")
                .argument(Argument.enumeration("mode", false, "the new mode", CACHE_MODES))
                .argument(DEVICE)
                .returns("{\"flush-error-disarmed\": bool}")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    try {
                        boolean disarmed = e.writeCache().setMode(CacheMode.parse(args.string("mode")));
                        return Map.of("flush-error-disarmed", disarmed);
                    } catch (IOException ex) {
                        throw QmpError.generic("changing the cache mode of '%s' failed: %s", e.name(), ex.getMessage());
                    }
                })
                .build());
        commands.register(QmpCommand.builder("write-cache-arm-flush-error")
                .doc("""
                        Arms a deferred write error in the style of the 2018 fsync problem: the next FLUSH of the export
                        fails with EIO once and the dirty data it should have persisted is dropped; later flushes
                        succeed.""")
                .argument(DEVICE)
                .handler(args -> {
                    BlockCommands.export(exports, args).writeCache().armDeferredFlushError();
                    return null;
                })
                .build());
        commands.register(QmpCommand.builder("power-fail")
                .doc("""
                        Cuts the export's power: every NBD connection to it is dropped, unflushed writes are lost as the
                        mode says (drop-all; random-subset keeps a seeded random subset of whole writes; torn-writes
                        keeps a seeded subset of each write's 512-byte sectors), and the export comes back at once with
                        only durable data. The reply says exactly what was lost; the same seed and the same history give
                        the same result.""")
                .argument(DEVICE)
                .argument(Argument.enumeration(
                        "mode", true, "what happens to unflushed writes (default drop-all)", FAIL_MODES))
                .optional("seed", ArgType.INT, "seed of the random choices (default: drawn and reported)")
                .returns("PowerFailReport")
                .example(
                        "-> {\"execute\": \"power-fail\", \"arguments\": {\"device\": \"disk0\", \"mode\": \"torn-writes\", \"seed\": 7}}")
                .example(
                        "<- {\"return\": {\"mode\": \"torn-writes\", \"seed\": 7, \"dirty-writes\": 3, ..., \"lost-ranges\": [{\"offset\": 4096, \"length\": 1024}]}}")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    PowerFailMode mode = PowerFailMode.parse(args.string("mode", "drop-all"));
                    long seed = args.has("seed") ? args.integer("seed") : nextSeed();
                    PowerFailReport report = e.powerFail(mode, seed);
                    Map<String, Object> out = report(report);
                    Map<String, Object> event = new LinkedHashMap<>();
                    event.put("device", e.name());
                    event.putAll(out);
                    event.remove("lost-ranges");
                    qmp.emit("POWER_FAIL", event);
                    return out;
                })
                .build());
    }

    private static synchronized long nextSeed() {
        return SEEDS.nextLong() & Long.MAX_VALUE;
    }

    static Map<String, Object> status(Export e) {
        CacheStatus s = e.writeCache().status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", e.name());
        m.put("mode", s.mode().label());
        m.put("powered-on", s.poweredOn());
        m.put("dirty-bytes", s.dirtyBytes());
        m.put("dirty-ranges", s.dirtyRanges());
        m.put("dirty-writes", s.dirtyWrites());
        m.put("oldest-dirty-age-ms", s.oldestDirtyAge().toMillis());
        m.put("deferred-error-armed", s.deferredErrorArmed());
        m.put("flushes", s.flushes());
        m.put("lying-flushes", s.lyingFlushes());
        m.put("deferred-errors", s.deferredErrors());
        m.put("bytes-dropped-by-deferred-errors", s.bytesDroppedByDeferredErrors());
        m.put("power-fails", s.powerFails());
        m.put("requests-cut", s.requestsCut());
        m.put("full-write-backs", s.fullWriteBacks());
        return m;
    }

    static Map<String, Object> report(PowerFailReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", r.mode().label());
        m.put("seed", r.seed());
        m.put("dirty-writes", r.dirtyWrites());
        m.put("dirty-bytes", r.dirtyBytes());
        m.put("writes-kept", r.writesKept());
        m.put("writes-torn", r.writesTorn());
        m.put("writes-lost", r.writesLost());
        m.put("bytes-kept", r.bytesKept());
        m.put("bytes-lost", r.bytesLost());
        List<Object> ranges = new ArrayList<>();
        for (ByteRange b : r.lostRanges()) {
            ranges.add(Map.of("offset", b.offset(), "length", b.length()));
        }
        m.put("lost-ranges", ranges);
        return m;
    }
}
