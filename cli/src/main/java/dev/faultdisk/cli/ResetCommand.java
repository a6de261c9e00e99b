package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.ResetReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk reset}: one export, or all, back to a known state in one command. */
@Command(
        name = "reset",
        mixinStandardHelpOptions = true,
        description = {
            "Return one export, or every export, to a known state (reset): fault rules, blkdebug rules and "
                    + "breakpoints, armed flush errors and the triggers naming it removed, held requests failed "
                    + "with ESHUTDOWN (or released with --release), counters zeroed; with --snapshot the data is "
                    + "reverted too. Nothing issued before the reset lands after it (docs/SNAPSHOTS.md)."
        },
        footer = {"  faultdisk reset", "  faultdisk reset disk0 --snapshot clean", "  faultdisk reset disk0 --release"})
final class ResetCommand extends ControlCommand {
    @Parameters(arity = "0..1", paramLabel = "EXPORT", description = "Only this export (default: all).")
    String device;

    @Option(names = "--release", description = "Let held requests run to completion first instead of failing them.")
    boolean release;

    @Option(names = "--snapshot", paramLabel = "NAME", description = "Revert the data to this snapshot too.")
    String snapshot;

    @Override
    int run(FaultdiskClient client) {
        Object raw = client.execute(
                "reset",
                FaultdiskClient.args("device", device, "held", release ? "release" : null, "snapshot", snapshot));
        if (control.json) {
            printJson(raw);
            return ExitCodes.OK;
        }
        ResetReport r = ResetReport.from(raw);
        Table table = new Table(
                "EXPORT",
                "RULES",
                "HELD-FAILED",
                "HELD-RELEASED",
                "BLKDEBUG",
                "BREAKPOINTS",
                "RESUMED",
                "FLUSH-ERROR",
                "REVERTED");
        for (ResetReport.Export e : r.exports()) {
            table.row(
                    e.device(),
                    e.faultRules(),
                    e.heldFailed(),
                    e.heldReleased(),
                    e.blkdebugRules(),
                    e.breakpoints(),
                    e.suspendedResumed(),
                    e.flushErrorDisarmed() ? "disarmed" : "-",
                    e.reverted() == null
                            ? "-"
                            : e.reverted().name() + " ("
                                    + Table.size(e.reverted().bytesReverted()) + ")");
        }
        table.print(out());
        printLine(r.triggers() + " trigger(s) removed");
        return ExitCodes.OK;
    }
}
