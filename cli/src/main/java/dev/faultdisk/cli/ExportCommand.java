package dev.faultdisk.cli;

import picocli.CommandLine.Parameters;

/** A control command about one export, which its first parameter names. */
abstract class ExportCommand extends ControlCommand {
    @Parameters(index = "0", paramLabel = "EXPORT", description = "The export.")
    String device;
}
