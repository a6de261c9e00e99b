package dev.faultdisk.cli;

import dev.faultdisk.client.ControlAddress;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Options every command that talks to a running server shares. */
final class ControlOptions {
    @Option(
            names = "--qmp",
            paramLabel = "HOST:PORT|unix:PATH",
            defaultValue = "${env:FAULTDISK_QMP:-" + ControlAddress.DEFAULT + "}",
            description = "The server's QMP control socket (default: ${DEFAULT-VALUE}; or set FAULTDISK_QMP).")
    String qmp;

    @Option(names = "--json", description = "Print JSON for scripts instead of text.")
    boolean json;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = Durations.Converter.class,
            description = "Bound for connecting, each reply and any wait (default: ${DEFAULT-VALUE}).")
    Duration timeout;
}
