package dev.faultdisk.cli;

import dev.faultdisk.client.BlkdebugState;
import dev.faultdisk.client.BlockInfo;
import dev.faultdisk.client.BlockStats;
import dev.faultdisk.client.FaultdiskClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code faultdisk exports}: the exports of a running server with their counters. */
@Command(
        name = "exports",
        mixinStandardHelpOptions = true,
        description = "List the exports of a running server: size, connections, request counters and blkdebug rules "
                + "(query-block and query-blockstats).",
        footer = {
            "  faultdisk exports",
            "  faultdisk exports --qmp unix:/run/faultdisk-qmp.sock",
            "  faultdisk exports --json | jq '.[] | select(.device == \"disk0\") | .stats.write'"
        })
final class ExportsCommand extends ControlCommand {

    @Override
    int run(FaultdiskClient client) {
        List<BlockInfo> exports = client.queryBlock();
        Map<String, BlockStats> stats = new LinkedHashMap<>();
        for (BlockStats s : client.queryBlockstats()) {
            stats.put(s.device(), s);
        }
        if (control.json) {
            List<Object> out = new ArrayList<>();
            for (BlockInfo e : exports) {
                Map<String, Object> m = new LinkedHashMap<>(e.raw());
                BlockStats s = stats.get(e.device());
                if (s != null) {
                    Map<String, Object> ops = new LinkedHashMap<>();
                    s.ops().forEach((op, c) -> {
                        Map<String, Object> one = new LinkedHashMap<>();
                        one.put("operations", c.operations());
                        one.put("bytes", c.bytes());
                        one.put("errors", c.errors());
                        ops.put(op, one);
                    });
                    m.put("stats", ops);
                }
                out.add(m);
            }
            printJson(out);
            return ExitCodes.OK;
        }
        Table table = new Table("EXPORT", "SIZE", "MODE", "CONNS", "READS", "WRITES", "ERRORS", "BLKDEBUG", "BACKING");
        for (BlockInfo e : exports) {
            BlockStats s = stats.getOrDefault(e.device(), new BlockStats(e.device(), Map.of()));
            table.row(
                    e.device(),
                    Table.size(e.size()),
                    e.readOnly() ? "ro" : "rw",
                    e.connections(),
                    s.reads(),
                    s.writes(),
                    s.errors(),
                    blkdebug(e),
                    e.backing());
        }
        table.print(out());
        return ExitCodes.OK;
    }

    private static String blkdebug(BlockInfo e) {
        Object raw = e.raw().get("blkdebug");
        if (raw == null) {
            return "-";
        }
        BlkdebugState state = BlkdebugState.from(raw);
        return "state " + state.state() + ", " + Words.count(state.rules().size(), "rule");
    }
}
