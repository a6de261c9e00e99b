package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreException;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.Explorer;
import dev.faultdisk.explore.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code faultdisk explore}: finds the crash states of a workload's run that break its check (docs/EXPLORE.md). */
@Command(
        name = "explore",
        mixinStandardHelpOptions = true,
        description =
                "Record a workload's run on an export, then check its crash states: at each flush (before it completes) "
                        + "and at the end, the durable writes plus subsets of the not yet durable ones (none, all, in-order "
                        + "prefixes, seeded random subsets, torn writes), up to --max-states. Each state is built by the server "
                        + "from a base snapshot, mounted (journal recovery runs), checked with the check command, unmounted and "
                        + "checked read-only by fsck. Failing states are minimized. Writes report.json and report.html. "
                        + "The workload acknowledges what it considers durable by printing lines 'ack KEY' on its standard "
                        + "output; the check gets the mount point as $1 and a file of the keys acknowledged before the crash "
                        + "point as $2 (also $FAULTDISK_MOUNT, $FAULTDISK_ACKED) and fails by its exit status. "
                        + "Needs root, /dev/fuse, nbdfuse, losetup and the file system's tools. "
                        + "--materialize RUN STATE --as NAME serves a crash state of an earlier run as a new export.",
        footer = {
            "  faultdisk explore --export disk0 --workload ./insert-rows.sh --check ./check-rows.sh",
            "  faultdisk explore --export disk0 --fs xfs --max-states 200 --seed 7 --workload W --check C",
            "  faultdisk explore --materialize faultdisk-explore/20300101-120000 m0 --as crash0",
            "",
            "Exit codes: 0 no violation found, 5 violations found, 1 exploration failed, 2 bad usage, 3 cannot connect."
        })
final class ExploreCommand extends ControlCommand {
    @Option(names = "--export", paramLabel = "NAME", description = "The export to explore (default disk0).")
    String export = "disk0";

    @Option(
            names = "--uri",
            paramLabel = "URI",
            description = "Its NBD URI (default: the one the server gives for it, e.g. nbd://127.0.0.1:10809/NAME).")
    String uri;

    @Option(names = "--fs", paramLabel = "ext4|xfs", description = "File system (default ext4).")
    String fs = "ext4";

    @Option(names = "--no-mkfs", description = "Keep the file system already on the export instead of making one.")
    boolean noMkfs;

    @Option(
            names = {"-o", "--mount-options"},
            paramLabel = "OPTIONS",
            description = "Mount options for the run and every state, e.g. data=writeback.")
    String mountOptions = "";

    @Option(
            names = "--setup",
            paramLabel = "CMD",
            description = "Shell command run on the mounted file system before recording.")
    String setup;

    @ArgGroup(exclusive = false)
    Run runArgs;

    /** The commands of an exploration. */
    static final class Run {
        @Option(
                names = "--workload",
                paramLabel = "CMD",
                required = true,
                description = "Shell command whose run is recorded.")
        String workload;

        @Option(
                names = "--check",
                paramLabel = "CMD",
                required = true,
                description = "Shell command judging a crash state.")
        String check;
    }

    @Option(names = "--max-states", paramLabel = "N", description = "Most crash states to check (default 1000).")
    int maxStates = 1000;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the random choices (default 1).")
    long seed = 1;

    @Option(
            names = "--state-timeout",
            paramLabel = "DURATION",
            description = "Longest a state's mount, check or fsck may take (default 30s).")
    Duration stateTimeout = Duration.ofSeconds(30);

    @Option(
            names = "--workload-timeout",
            paramLabel = "DURATION",
            description = "Longest the setup and the workload may take (default 10m).")
    Duration workloadTimeout = Duration.ofMinutes(10);

    @Option(
            names = "--run-dir",
            paramLabel = "DIR",
            description = "Where the run's files go (default faultdisk-explore/DATE-TIME).")
    Path runDir;

    @Option(
            names = "--tear-size",
            paramLabel = "BYTES",
            description = "The unit a write may tear into: 4096 (default, a 4Kn or 512e drive's sector) or 512.")
    int tearSize = 4096;

    @Option(
            names = "--minimize",
            paramLabel = "N",
            description = "How many failing crash points to minimize (default 3).")
    int minimize = 3;

    @Option(
            names = "--materialize",
            arity = "2",
            paramLabel = "RUN STATE",
            hideParamSyntax = true, // or picocli shows the label once per argument: RUN STATE RUN STATE
            description =
                    "Serve crash state STATE (a number, or mN for a minimal reproducer) of the run in directory RUN.")
    List<String> materialize;

    @Option(names = "--as", paramLabel = "NAME", description = "With --materialize: the new export's name.")
    String as;

    /** The run's options, checked before connecting ({@link #before}). */
    private ExploreOptions options;

    @Override
    Integer before() {
        if (materialize != null) {
            if (as == null) {
                throw new UsageException("--materialize RUN STATE needs --as NAME");
            }
            return null;
        }
        if (runArgs == null) {
            throw new UsageException(
                    "--workload CMD and --check CMD are required (or --materialize RUN STATE --as NAME)");
        }
        try {
            // Built here, before connecting: a bad value is a usage error found without a server.
            options = ExploreOptions.builder(export, runArgs.workload, runArgs.check)
                    .uri(uri)
                    .fs(fs)
                    .mkfs(!noMkfs)
                    .mountOptions(mountOptions)
                    .setup(setup)
                    .maxStates(maxStates)
                    .seed(seed)
                    .stateTimeout(stateTimeout)
                    .workloadTimeout(workloadTimeout)
                    .runDir(runDir)
                    .minimize(minimize)
                    .tearSize(tearSize)
                    .progress(System.err)
                    .build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return null;
    }

    @Override
    int run(FaultdiskClient client) {
        try {
            if (materialize != null) {
                String snapshot = Explorer.materialize(client, Path.of(materialize.get(0)), materialize.get(1), as);
                printLine("faultdisk explore: crash state " + materialize.get(1) + " of " + materialize.get(0)
                        + " served as export '" + as + "' (a clone of snapshot " + snapshot + ")");
                printLine("  inspect it: faultdisk attach "
                        + client.exportUri(as).orElse("nbd://HOST:PORT/" + as) + " --mount /mnt/" + as);
                return ExitCodes.OK;
            }
            ExploreReport r = Explorer.explore(client, options);
            // the summary is printed by the exploration itself, before a Ctrl-C lets the JVM go
            return r.violations().isEmpty() || r.results().stream().allMatch(s -> s.verdict() == Verdict.ERROR)
                    ? (r.results().stream().anyMatch(s -> s.verdict() == Verdict.ERROR)
                            ? ExitCodes.FAILED
                            : ExitCodes.OK)
                    : ExitCodes.VIOLATIONS;
        } catch (ExploreException | IllegalArgumentException e) {
            return fail(ExitCodes.FAILED, e.getMessage());
        }
    }
}
