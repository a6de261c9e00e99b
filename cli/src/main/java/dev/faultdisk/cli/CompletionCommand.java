package dev.faultdisk.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code faultdisk completion}: a bash (and zsh) completion script for every command and option. */
@Command(
        name = "completion",
        mixinStandardHelpOptions = true,
        description =
                "Print a bash completion script for faultdisk (zsh too, after 'autoload -U +X bashcompinit && bashcompinit').",
        footer = {
            "  source <(faultdisk completion)                                   # this shell",
            "  faultdisk completion > /etc/bash_completion.d/faultdisk          # every shell"
        })
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine()
                .getOut()
                .print(AutoComplete.bash("faultdisk", spec.root().commandLine()));
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
