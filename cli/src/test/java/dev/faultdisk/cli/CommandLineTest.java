package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command tree: help with examples everywhere, exit codes listed, usage errors short. */
class CommandLineTest {

    private static List<CommandLine> all(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!sub.getCommandName().equals("help")) {
                out.addAll(all(sub));
            }
        }
        return out;
    }

    @Test
    void everyCommandsHelpHasExamplesAndEveryControlCommandListsExitCodes() {
        List<CommandLine> commands = all(Main.commandLine());
        assertTrue(commands.size() >= 18, "commands: " + commands.size());
        for (CommandLine cl : commands) {
            String name = cl.getCommandSpec().qualifiedName();
            String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
            int examples = usage.indexOf("\nExamples:\n");
            assertTrue(
                    examples >= 0 && usage.indexOf("\n  faultdisk ", examples) > 0, name + " has examples:\n" + usage);
            if (cl.getCommand() instanceof ControlCommand) {
                assertTrue(usage.contains("Exit codes:\n  0   done\n  1   the server refused"), name + ":\n" + usage);
                assertTrue(usage.contains("--qmp=HOST:PORT|unix:PATH"), name);
                assertTrue(usage.contains("--json"), name);
            }
        }
    }

    @Test
    void everyCommandListShowsEachSubcommandsWholeSummary() {
        // picocli lists a subcommand by the first line of its description: a description split over
        // lines showed only a fragment ("...a loop device").
        for (CommandLine cl : all(Main.commandLine())) {
            String listed = cl.getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
            for (CommandLine sub : cl.getSubcommands().values()) {
                // picocli lists the header when there is one (as its help command has), else the description.
                CommandLine.Model.UsageMessageSpec usage = sub.getCommandSpec().usageMessage();
                String[] description = usage.header().length > 0 ? usage.header() : usage.description();
                String summary = description.length == 0 ? "" : description[0].replaceAll("\\s+", " ");
                String name = sub.getCommandSpec().qualifiedName();
                assertTrue(summary.matches(".*[.)]"), name + ": its summary is a whole sentence: " + summary);
                assertTrue(listed.contains(summary), name + ": the summary is listed whole");
            }
        }
    }

    @Test
    void usageErrorsAreOneLineAndAPointerToHelp() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(ExitCodes.USAGE, cl.execute("break", "set", "disk0"));
        assertEquals("""
                faultdisk break set: Missing required parameters: 'EVENT', 'TAG'
                Try 'faultdisk break set --help' for more information.
                """, err.toString());
    }

    @Test
    void badArgumentsAreUsageErrorsFoundBeforeConnecting() {
        // Nothing listens on port 1: an argument error must be reported without trying to connect.
        assertEquals("""
                faultdisk cache mode: Invalid value for positional parameter at index 1 (MODE): unknown cache mode \
                'fast' (writethrough, writeback, lying-flush)
                Try 'faultdisk cache mode --help' for more information.
                """, usageError("cache", "mode", "disk0", "fast", "--qmp", "127.0.0.1:1"));
        assertEquals("""
                faultdisk power-fail: Invalid value for option '--mode': unknown power-fail mode 'half' \
                (drop-all, random-subset, torn-writes)
                Try 'faultdisk power-fail --help' for more information.
                """, usageError("power-fail", "disk0", "--mode", "half", "--qmp", "127.0.0.1:1"));
        assertEquals(
                "faultdisk faults add: no rules given: name them (e.g. error,ops=write) or use --rules or --rules-file\n",
                usageError("faults", "add", "disk0", "--qmp", "127.0.0.1:1"));
        // explore checks its options before it connects, not after the server is found.
        assertEquals("faultdisk explore: --max-states must be at least 1, not 0\n", exploreError("--max-states", "0"));
        assertEquals("faultdisk explore: --fs must be ext4 or xfs, not 'btrfs'\n", exploreError("--fs", "btrfs"));
        assertEquals("faultdisk explore: --state-timeout must be more than 0\n", exploreError("--state-timeout", "0s"));
        // A bad address is a usage error too, and only its own message says --qmp.
        assertEquals(
                "faultdisk cache mode: --qmp: address must be HOST:PORT or unix:PATH, not 'nowhere'\n",
                usageError("cache", "mode", "disk0", "writeback", "--qmp", "nowhere"));
    }

    /** explore's usage error for an option and its value, with a workload, a check and no server. */
    private static String exploreError(String option, String value) {
        return usageError("explore", "--workload", "true", "--check", "true", option, value, "--qmp", "127.0.0.1:1");
    }

    private static String usageError(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(ExitCodes.USAGE, cl.execute(args), String.join(" ", args));
        return err.toString();
    }

    @Test
    void completionScriptKnowsTheCommandsAndOptions() {
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("completion"));
        String script = out.toString();
        assertTrue(script.startsWith("#!/usr/bin/env bash"), script.substring(0, 40));
        for (String word : List.of(
                "complete -F _complete_faultdisk",
                "set-rules",
                "--inject-error",
                "resume",
                "--replay",
                "faults",
                "held",
                "--rules-file",
                "--errno",
                // the modes' labels, from their types
                "(\"writethrough\" \"writeback\" \"lying-flush\")",
                "(\"drop-all\" \"random-subset\" \"torn-writes\")")) {
            assertTrue(script.contains(word), word);
        }
    }
}
