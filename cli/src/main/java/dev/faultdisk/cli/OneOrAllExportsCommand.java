package dev.faultdisk.cli;

import dev.faultdisk.client.BlockInfo;
import dev.faultdisk.client.FaultdiskClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import picocli.CommandLine.Parameters;

/** A control command that shows every export, or with its optional parameter only the one named. */
abstract class OneOrAllExportsCommand extends ControlCommand {
    @Parameters(arity = "0..1", paramLabel = "EXPORT", description = "Only this export.")
    String device;

    /** The export named, or all of the server's exports in its order. */
    final List<String> devices(FaultdiskClient client) {
        return device != null
                ? List.of(device)
                : client.queryBlock().stream().map(BlockInfo::device).toList();
    }

    /**
     * Sends the per-export query {@code command} for each of {@link #devices} and prints the
     * replies: with --json the named export's reply alone or every export's by name, else each
     * with {@code text} (export, reply); exit 0.
     */
    final int replyEach(FaultdiskClient client, String command, BiConsumer<String, Object> text) {
        Map<String, Object> replies = new LinkedHashMap<>();
        for (String d : devices(client)) {
            replies.put(d, client.execute(command, FaultdiskClient.args("device", d)));
        }
        if (control.json) {
            printJson(device != null ? replies.get(device) : replies);
        } else {
            replies.forEach(text);
            out().flush();
        }
        return ExitCodes.OK;
    }

    /**
     * Prints {@code items} as a table under {@code header}, a row each as {@code row} makes it, or,
     * when there are none, the line "no {@code what}" (after "EXPORT: " when one is named); exit 0.
     */
    final <T> int printTable(List<T> items, String what, String[] header, Function<T, Object[]> row) {
        if (items.isEmpty()) {
            printLine((device == null ? "" : device + ": ") + "no " + what);
            return ExitCodes.OK;
        }
        Table table = new Table(header);
        for (T item : items) {
            table.row(row.apply(item));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
