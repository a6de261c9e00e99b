package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.PowerFailReport;
import dev.faultdisk.wire.PowerFailMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code faultdisk power-fail}: pull the plug on an export. */
@Command(
        name = "power-fail",
        mixinStandardHelpOptions = true,
        description = {
            "Cut an export's power (power-fail): its NBD connections drop, writes not yet flushed are "
                    + "lost as --mode says, and the export comes back at once with only durable data. Prints what was "
                    + "lost; the same --seed and the same history give the same result.",
            "Only a caching export (faultdisk cache mode EXPORT writeback) has anything to lose."
        },
        footer = {
            "  faultdisk power-fail disk0",
            "  faultdisk power-fail disk0 --mode torn-writes --seed 7",
            "  faultdisk power-fail disk0 --json | jq '.\"lost-ranges\"'"
        })
final class PowerFailCommand extends ExportCommand {
    @Option(
            names = "--mode",
            paramLabel = "MODE",
            defaultValue = "drop-all",
            description = "drop-all (default), random-subset (a seeded subset of whole writes survives) or "
                    + "torn-writes (a seeded subset of each write's 512-byte sectors survives).")
    PowerFailMode mode;

    @Option(
            names = "--seed",
            paramLabel = "N",
            description = "Seed of the random choices (default: the server draws one and reports it).")
    Long seed;

    @Override
    int run(FaultdiskClient client) {
        if (control.json) {
            printJson(client.execute(
                    "power-fail", FaultdiskClient.args("device", device, "mode", mode.label(), "seed", seed)));
            return ExitCodes.OK;
        }
        PowerFailReport r = client.powerFail(device, mode, seed);
        out().println(device + ": power failed (" + r.mode().label() + ", seed " + r.seed() + "): " + r.dirtyWrites()
                + " unflushed writes (" + r.dirtyBytes() + " bytes): " + r.writesKept() + " kept, " + r.writesTorn()
                + " torn, " + r.writesLost() + " lost; " + r.bytesLost() + " bytes lost");
        for (PowerFailReport.Range range : r.lostRanges()) {
            out().println("  lost " + range.length() + " bytes at offset " + range.offset());
        }
        out().flush();
        return ExitCodes.OK;
    }
}
