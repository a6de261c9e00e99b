package dev.faultdisk.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/** attach and detach: both find the attachments' records in --state-dir and report on stdout. */
abstract class AttachmentCommand implements Callable<Integer> {
    @Mixin
    StateDirOption stateDir;

    final PrintStream out = System.out;
}
