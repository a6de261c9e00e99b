package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.WriteCacheInfo;
import dev.faultdisk.wire.CacheMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code faultdisk cache}: the exports' simulated volatile write caches. */
@Command(
        name = "cache",
        mixinStandardHelpOptions = true,
        description = "Show and switch the exports' volatile write caches, and arm a deferred flush error "
                + "(docs/WRITE-CACHE.md). See also faultdisk power-fail.",
        subcommands = {CacheCommand.Status.class, CacheCommand.Mode.class, CacheCommand.ArmFlushError.class},
        footer = {
            "  faultdisk cache mode disk0 writeback",
            "  faultdisk cache status",
            "  faultdisk cache arm-flush-error disk0"
        })
final class CacheCommand extends GroupCommand {

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "Mode, dirty data and counters of one export's write cache or all (query-write-cache).",
            footer = {"  faultdisk cache status", "  faultdisk cache status disk0 --json"})
    static final class Status extends OneOrAllExportsCommand {
        @Override
        int run(FaultdiskClient client) {
            List<WriteCacheInfo> all = new ArrayList<>();
            for (String d : devices(client)) {
                all.add(client.queryWriteCache(d));
            }
            if (control.json) {
                printJson(
                        device != null
                                ? all.getFirst().raw()
                                : all.stream().map(WriteCacheInfo::raw).toList());
                return ExitCodes.OK;
            }
            Table table = new Table(
                    "EXPORT", "MODE", "DIRTY", "WRITES", "RANGES", "OLDEST", "FLUSHES", "POWER-FAILS", "ARMED-ERROR");
            for (WriteCacheInfo c : all) {
                table.row(
                        c.device(),
                        c.mode().label(),
                        Table.size(c.dirtyBytes()),
                        c.dirtyWrites(),
                        c.dirtyRanges(),
                        c.dirtyWrites() == 0 ? "-" : c.oldestDirtyAge().toMillis() + " ms",
                        c.counter("flushes"),
                        c.counter("power-fails"),
                        c.deferredErrorArmed() ? "yes" : "no");
            }
            table.print(out());
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "mode",
            mixinStandardHelpOptions = true,
            description = {
                "Switch an export's write cache (write-cache-set-mode): writethrough (every acknowledged "
                        + "write is durable), writeback (writes without FUA stay volatile until a FLUSH) or lying-flush "
                        + "(FLUSH and FUA persist nothing). Leaving a caching mode for writethrough first persists what "
                        + "is dirty."
            },
            footer = {"  faultdisk cache mode disk0 writeback", "  faultdisk cache mode disk0 lying-flush"})
    static final class Mode extends ExportCommand {
        @Parameters(index = "1", paramLabel = "MODE", description = "writethrough, writeback or lying-flush.")
        CacheMode mode;

        @Override
        int run(FaultdiskClient client) {
            boolean disarmed = client.writeCacheSetMode(device, mode);
            return reply(
                    client.queryWriteCache(device).raw(),
                    device + ": write cache " + mode.label()
                            + (disarmed
                                    ? "; the armed flush error was disarmed (writethrough has no cache whose"
                                            + " write-back could fail)"
                                    : ""));
        }
    }

    @Command(
            name = "arm-flush-error",
            mixinStandardHelpOptions = true,
            description = "The export's next FLUSH fails with EIO once and drops the dirty data it should have "
                    + "persisted; later flushes succeed (write-cache-arm-flush-error): the 2018 fsync problem.",
            footer = {"  faultdisk cache arm-flush-error disk0"})
    static final class ArmFlushError extends ExportCommand {
        @Override
        int run(FaultdiskClient client) {
            client.writeCacheArmFlushError(device);
            return reply(Map.of(), device + ": the next flush fails with EIO and drops the dirty data");
        }
    }
}
