package dev.faultdisk.cli;

import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code faultdisk} command. */
@Command(
        name = "faultdisk",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A programmable faulty disk served over NBD, for testing distributed systems.",
        subcommands = {
            ServeCommand.class,
            AttachCommand.class,
            DetachCommand.class,
            ExportsCommand.class,
            ExportGroupCommand.class,
            StatsCommand.class,
            TopCommand.class,
            BlkdebugCommand.class,
            BreakCommand.class,
            CacheCommand.class,
            FaultsCommand.class,
            TriggersCommand.class,
            PowerFailCommand.class,
            SnapshotCommand.class,
            ExploreCommand.class,
            ResetCommand.class,
            EventsCommand.class,
            RawQmpCommand.class,
            RunCommand.class,
            CampaignCommand.class,
            HistoryFilesCommand.class,
            CompletionCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {
            "",
            "Every command but serve talks to a running server over QMP (--qmp HOST:PORT|unix:PATH, "
                    + "default 127.0.0.1:4444, or FAULTDISK_QMP).",
            "Exit codes: 0 done, 1 the server refused a command, 2 bad usage, 3 cannot connect, 4 timed out.",
            "",
            "Examples:",
            "  faultdisk serve --export disk0=memory:10G",
            "  faultdisk exports",
            "  faultdisk blkdebug set-rules disk0 --inject-error write_aio,errno=ENOSPC,once",
            "  faultdisk faults add disk0 error,ops=write,errno=EIO,times=1",
            "  faultdisk triggers add '{\"when\": {\"device\": \"disk0\", \"ops\": [\"write\"], \"after\": 20}, "
                    + "\"actions\": [{\"action\": \"hold\"}]}'",
            "  faultdisk events",
            "  faultdisk help blkdebug set-rules"
        })
public final class Main {

    public static void main(String[] args) {
        LogSetup.configure();
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command tree, its subcommands' --help completed by {@link #completeUsage}. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        for (CommandLine sub : cl.getSubcommands().values()) {
            completeUsage(sub);
        }
        cl.setUsageHelpWidth(110);
        // "@FILE" is an argument of its own (triggers add @triggers.json), not a file of arguments.
        cl.setExpandAtFiles(false);
        cl.setParameterExceptionHandler(Main::usageError);
        // Every duration option reads "500ms", "30s", "2m" alike, and every mode takes the labels the
        // server does (and offers them to shell completion): each converter is registered once here.
        cl.registerConverter(Duration.class, converter(Durations::parse));
        cl.registerConverter(CacheMode.class, converter(CacheMode::parse));
        cl.registerConverter(PowerFailMode.class, converter(PowerFailMode::parse));
        return cl;
    }

    /** A picocli converter whose usage error is the parser's own message. */
    private static <T> CommandLine.ITypeConverter<T> converter(Function<String, T> parse) {
        return text -> {
            try {
                return parse.apply(text);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        };
    }

    /** A short message and a pointer to --help, instead of the whole usage text. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return ExitCodes.USAGE;
    }

    /**
     * What every subcommand's --help shows alike, said once: the exit codes of a control command,
     * and the heading of the footer, which holds a subcommand's examples (and only those).
     */
    private static void completeUsage(CommandLine cl) {
        CommandLine.Model.UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
        if (cl.getCommand() instanceof ControlCommand) {
            usage.exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.describe());
        }
        if (usage.footer().length > 0) {
            usage.footerHeading("%nExamples:%n");
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            completeUsage(sub);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"faultdisk " + (v == null ? "dev" : v)};
        }
    }
}
