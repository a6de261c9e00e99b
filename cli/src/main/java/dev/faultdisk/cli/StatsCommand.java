package dev.faultdisk.cli;

import dev.faultdisk.client.BlockStats;
import dev.faultdisk.client.FaultdiskClient;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code faultdisk stats}: per-operation counters. */
@Command(
        name = "stats",
        mixinStandardHelpOptions = true,
        description = "Show per-operation request counters (operations, bytes, errors) of one export or all "
                + "(query-blockstats).",
        footer = {"  faultdisk stats", "  faultdisk stats disk0 --json"})
final class StatsCommand extends OneOrAllExportsCommand {
    @Override
    int run(FaultdiskClient client) {
        if (control.json) {
            printJson(
                    device == null
                            ? client.execute("query-blockstats")
                            : client.execute("query-blockstats", FaultdiskClient.args("device", device)));
            return ExitCodes.OK;
        }
        List<BlockStats> all = device == null ? client.queryBlockstats() : List.of(client.queryBlockstats(device));
        Table table = new Table("EXPORT", "OPERATION", "REQUESTS", "BYTES", "ERRORS");
        for (BlockStats s : all) {
            s.ops().forEach((op, c) -> table.row(s.device(), op, c.operations(), c.bytes(), c.errors()));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
