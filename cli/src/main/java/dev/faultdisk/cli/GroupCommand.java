package dev.faultdisk.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;

/** A command that only groups subcommands (break, faults, ...): alone, it prints its usage and fails. */
abstract class GroupCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }
}
