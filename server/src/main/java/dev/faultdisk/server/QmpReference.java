package dev.faultdisk.server;

import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;

/**
 * Renders the QMP reference (docs/qmp-reference.md) from the command registry itself, so the
 * documentation cannot drift from what the server accepts: a test compares the file with this.
 */
public final class QmpReference {
    private QmpReference() {}

    public static String markdown(CommandRegistry registry) {
        StringBuilder md = new StringBuilder();
        md.append("# QMP command reference\n\n");
        md.append("Generated from the server's command registry by `QmpReference`; do not edit by hand.\n");
        md.append(
                "Regenerate with `./mvnw -q -pl server -am test -Dtest=QmpReferenceTest -Dfaultdisk.updateDocs=true`.\n");
        md.append("The wire protocol is described in [QMP.md](QMP.md).\n\n");
        md.append("## Commands\n\n");
        for (QmpCommand c : registry.commands()) {
            md.append("- [`")
                    .append(c.name())
                    .append("`](#")
                    .append(anchor(c.name()))
                    .append(")\n");
        }
        md.append('\n');
        for (QmpCommand c : registry.commands()) {
            md.append("### ").append(c.name()).append("\n\n");
            md.append(c.doc().isEmpty() ? "(no description)" : c.doc()).append("\n\n");
            if (c.arguments().isEmpty()) {
                md.append("Arguments: none.\n\n");
            } else {
                md.append("| argument | type | required | meaning |\n|---|---|---|---|\n");
                for (Argument a : c.arguments()) {
                    md.append("| `")
                            .append(a.name())
                            .append("` | `")
                            .append(a.typeName())
                            .append("` | ")
                            .append(a.optional() ? "no" : "yes")
                            .append(" | ")
                            .append(a.doc().replace("|", "\\|"))
                            .append(" |\n");
                }
                md.append('\n');
            }
            md.append("Returns: ")
                    .append(c.returns().isEmpty() ? "`{}`" : "`" + c.returns() + "`")
                    .append("\n\n");
            if (!c.examples().isEmpty()) {
                md.append("```\n");
                for (String e : c.examples()) {
                    md.append(e).append('\n');
                }
                md.append("```\n\n");
            }
        }
        md.append("## Events\n\n");
        for (EventDoc e : EventDoc.ALL) {
            md.append("### ").append(e.name()).append("\n\n").append(e.doc()).append("\n\nData: ");
            md.append(String.join("; ", e.fields())).append(".\n\n");
        }
        return md.toString();
    }

    private static String anchor(String name) {
        return name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_-]", "");
    }
}
