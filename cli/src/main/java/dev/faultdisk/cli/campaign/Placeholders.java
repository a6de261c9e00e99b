package dev.faultdisk.cli.campaign;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code {name}} placeholders in a campaign's commands: {@code {node}} (the node's number),
 * {@code {name}}, {@code {mount}} (its mount point; {@code {dir}} is the same), {@code {var:X}}
 * (the node's variable X), {@code {all:X}} (X of every node joined with commas; X may be
 * {@code name}), {@code {campaign}} (the campaign file's directory), {@code {workdir}},
 * {@code {run}} (the run's directory), {@code {acked}} (the file of acknowledged writes) and
 * {@code {slot}} (the run slot, 0 to parallel-1). {@code {{} and {@code }}} are not special: a
 * brace not around a known name is an error.
 */
final class Placeholders {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z]+(?::[A-Za-z0-9_.-]+)?)\\}");
    static final List<String> PLAIN =
            List.of("node", "name", "mount", "dir", "campaign", "workdir", "run", "acked", "slot");

    private Placeholders() {}

    /** Replaces every placeholder through {@code values}; an unknown one is left as it is. */
    static String expand(String template, Function<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = values.apply(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(v == null ? m.group() : v));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The placeholders of {@code template} that name nothing, given the variables every node has. */
    static List<String> unknown(String template, java.util.Set<String> varsOfEveryNode) {
        List<String> bad = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            String p = m.group(1);
            boolean ok = PLAIN.contains(p)
                    || (p.startsWith("var:") && varsOfEveryNode.contains(p.substring(4)))
                    || (p.startsWith("all:") && (p.equals("all:name") || varsOfEveryNode.contains(p.substring(4))));
            if (!ok) {
                bad.add("{" + p + "}");
            }
        }
        return bad;
    }

    /**
     * The values for one node in one run of a slot; {@code nodes} are that slot's nodes, for
     * {@code {all:X}}.
     */
    static Function<String, String> of(
            CampaignSpec spec,
            List<CampaignSpec.Node> nodes,
            int slot,
            CampaignSpec.Node node,
            java.nio.file.Path mount,
            Map<String, String> extra) {
        return p -> {
            if (extra.containsKey(p)) {
                return extra.get(p);
            }
            return switch (p) {
                case "slot" -> Integer.toString(slot);
                case "node" -> Integer.toString(node.number());
                case "name" -> node.name();
                case "mount", "dir" -> mount.toString();
                case "campaign" -> spec.file().toAbsolutePath().getParent().toString();
                case "workdir" -> spec.workdir().toAbsolutePath().toString();
                default -> {
                    if (p.startsWith("var:")) {
                        yield node.vars().get(p.substring(4));
                    }
                    if (p.startsWith("all:")) {
                        String v = p.substring(4);
                        yield String.join(
                                ",",
                                nodes.stream()
                                        .map(n -> v.equals("name")
                                                ? n.name()
                                                : n.vars().get(v))
                                        .toList());
                    }
                    yield null;
                }
            };
        };
    }
}
