package dev.faultdisk.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code faultdisk} command. */
@Command(name = "faultdisk", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A programmable faulty disk served over NBD, for testing distributed systems.",
        subcommands = {ServeCommand.class, AttachCommand.class, DetachCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        LogSetup.configure();
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        return new CommandLine(new Main()).execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"faultdisk " + (v == null ? "dev" : v)};
        }
    }
}
