package dev.faultdisk.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Man pages (roff, man(7) macros) for {@code faultdisk} and every subcommand, made from the same
 * picocli command tree the program runs, so they never drift from {@code --help}. Written as
 * roff directly: picocli's generator writes AsciiDoc, which would need a Ruby converter in the
 * build. The release build runs {@code java -cp faultdisk.jar dev.faultdisk.cli.ManPages DIR}.
 */
public final class ManPages {
    private ManPages() {}

    /** Writes one page per command into the directory given. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ManPages OUTPUT-DIRECTORY");
            System.exit(ExitCodes.USAGE);
        }
        List<Path> written = write(Path.of(args[0]), Main.class.getPackage().getImplementationVersion());
        System.out.println("wrote " + written.size() + " man pages to " + args[0]);
    }

    /** Writes {@code faultdisk.1}, {@code faultdisk-serve.1}, {@code faultdisk-break-wait.1}... */
    static List<Path> write(Path dir, String version) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (CommandLine cl : commands(Main.commandLine())) {
            Path file = dir.resolve(pageName(cl.getCommandSpec()) + ".1");
            Files.writeString(file, page(cl, version == null ? "dev" : version), StandardCharsets.UTF_8);
            written.add(file);
        }
        return written;
    }

    /** Every command of the tree, depth first; picocli's help command has no page of its own. */
    static List<CommandLine> commands(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) {
                out.addAll(commands(sub));
            }
        }
        return out;
    }

    /** "faultdisk-break-wait" for "faultdisk break wait". */
    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    static String page(CommandLine cl, String version) {
        CommandSpec spec = cl.getCommandSpec();
        UsageMessageSpec usage = spec.usageMessage();
        CommandLine.Help help =
                new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        StringBuilder out = new StringBuilder();
        String name = pageName(spec);
        out.append(".TH \"")
                .append(name.toUpperCase(java.util.Locale.ROOT))
                .append("\" 1 \"\" \"faultdisk ")
                .append(version)
                .append("\" \"faultdisk manual\"\n");
        out.append(".SH NAME\n")
                .append(text(name))
                .append(" \\- ")
                .append(text(summary(usage)))
                .append('\n');

        out.append(".SH SYNOPSIS\n.nf\n");
        out.append(text(help.synopsis(0).strip())).append("\n.fi\n");

        out.append(".SH DESCRIPTION\n");
        for (String paragraph : usage.description()) {
            out.append(".PP\n").append(text(paragraph)).append('\n');
        }

        List<PositionalParamSpec> positionals =
                spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
        if (!positionals.isEmpty()) {
            out.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : positionals) {
                item(out, p.paramLabel(), p);
            }
        }

        List<OptionSpec> options =
                spec.options().stream().filter(o -> !o.hidden()).toList();
        if (!options.isEmpty()) {
            out.append(".SH OPTIONS\n");
            for (OptionSpec o : options) {
                String label = String.join(", ", o.names()) + (o.arity().max() > 0 ? "=" + o.paramLabel() : "");
                item(out, label, o);
            }
        }

        List<CommandLine> subs = cl.getSubcommands().values().stream()
                .filter(s -> !(s.getCommand() instanceof CommandLine.HelpCommand))
                .toList();
        if (!subs.isEmpty()) {
            out.append(".SH COMMANDS\n");
            for (CommandLine sub : subs) {
                out.append(".TP\n.B ")
                        .append(text(sub.getCommandName()))
                        .append('\n')
                        .append(text(summary(sub.getCommandSpec().usageMessage())))
                        .append(" See \\fB")
                        .append(text(pageName(sub.getCommandSpec())))
                        .append("\\fR(1).\n");
            }
        }

        Map<String, String> exitCodes = usage.exitCodeList();
        if (!exitCodes.isEmpty()) {
            out.append(".SH EXIT STATUS\n");
            exitCodes.forEach((code, meaning) -> out.append(".TP\n.B ")
                    .append(text(code.strip()))
                    .append('\n')
                    .append(text(meaning))
                    .append('\n'));
        }

        List<String> footer = List.of(usage.footer());
        if (!footer.isEmpty()) {
            out.append(".SH EXAMPLES\n.nf\n");
            for (String line : footer) {
                out.append(text(line.isEmpty() ? "" : line)).append('\n');
            }
            out.append(".fi\n");
        }

        out.append(".SH SEE ALSO\n");
        List<String> see = new ArrayList<>();
        if (spec.parent() != null) {
            see.add("\\fB" + text(pageName(spec.parent())) + "\\fR(1)");
        }
        see.add("qemu\\-io(1)");
        see.add("nbdinfo(1)");
        out.append(String.join(", ", see))
                .append("\n.PP\nThe documentation in docs/ of the faultdisk source: GUIDE.md, CLI.md,"
                        + " QMP.md and qmp\\-reference.md.\n");
        return out.toString();
    }

    private static void item(StringBuilder out, String label, ArgSpec arg) {
        out.append(".TP\n.B ").append(text(label)).append('\n');
        String[] description = arg.description();
        for (int i = 0; i < description.length; i++) {
            if (i > 0) {
                out.append(".br\n");
            }
            out.append(text(description[i])).append('\n');
        }
    }

    /** The one-line summary: the header when there is one (as picocli lists it), else the first description line. */
    static String summary(UsageMessageSpec usage) {
        String[] lines = usage.header().length > 0 ? usage.header() : usage.description();
        return lines.length == 0 ? "" : lines[0];
    }

    /**
     * Text for roff: backslashes escaped, hyphens as minus signs (options copy and paste as
     * typed), and a line that starts with a period or an apostrophe protected from being read as a
     * request.
     */
    static String text(String s) {
        StringBuilder b = new StringBuilder();
        for (String line : s.replace("\\", "\\e").replace("-", "\\-").split("\n", -1)) {
            if (!b.isEmpty()) {
                b.append('\n');
            }
            if (line.startsWith(".") || line.startsWith("'")) {
                b.append("\\&");
            }
            b.append(line);
        }
        return b.toString();
    }
}
