package dev.faultdisk.cli.campaign;

import dev.faultdisk.cli.JsonPositions;
import dev.faultdisk.explore.HostPrograms;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a campaign file and checks all of it before anything runs: every problem is collected as
 * {@code FILE:LINE: member: what} (lines from {@link JsonPositions}), and any problem stops the
 * campaign before it touches a server.
 */
public final class CampaignParser {
    private static final List<String> TOP = List.of(
            "name",
            "workdir",
            "filesystem",
            "mkfs-options",
            "mount-options",
            "nodes",
            "commands",
            "setup",
            "workload",
            "check",
            "faults",
            "targets",
            "timeouts",
            "slow-ms",
            "seed",
            "restart");
    private static final List<String> NODE =
            List.of("name", "qmp", "nbd", "export", "export-spec", "vars", "filesystem", "mount");
    private static final List<String> COMMANDS = List.of("start", "stop", "probe", "role");
    private static final List<String> TARGETS = List.of("files", "structures", "pieces");
    private static final List<String> TIMEOUTS = List.of("start-s", "setup-s", "workload-s", "check-s", "stop-s");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,32}");
    private static final int MAX_NODES = 16;

    /** A campaign file with problems; nothing ran. */
    public static final class CampaignException extends Exception {
        private static final long serialVersionUID = 1L;
        private final List<String> problems;

        CampaignException(List<String> problems) {
            super(String.join("\n", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    private final Path file;
    private final JsonPositions positions;
    private final List<String> problems = new ArrayList<>();

    private CampaignParser(Path file, JsonPositions positions) {
        this.file = file;
        this.positions = positions;
    }

    /** Parses and checks {@code file}; {@code workdir} overrides the file's when not null. */
    public static CampaignSpec parse(Path file, Path workdir) throws CampaignException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CampaignException(List.of(file + ": cannot read: " + FileErrors.reason(e)));
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (JsonException e) {
            // The same form as the other problems (FILE:LINE: ...) and as serve --config's.
            throw new CampaignException(List.of(file + ":" + e.line() + ": not valid JSON: " + e.messageWithPlace()));
        }
        CampaignParser p = new CampaignParser(file, JsonPositions.of(text));
        CampaignSpec spec = p.spec(root, workdir);
        if (!p.problems.isEmpty()) {
            throw new CampaignException(p.problems);
        }
        return spec;
    }

    private void problem(String path, String what) {
        problems.add(file + ":" + positions.lineOf(path) + ": " + (path.isEmpty() ? "" : path + ": ") + what);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> object(Object v, String path) {
        if (v instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        problem(path, "must be an object, got " + Json.describe(v));
        return Map.of();
    }

    private void unknownMembers(Map<String, Object> m, String path, List<String> known) {
        for (String k : m.keySet()) {
            if (!known.contains(k)) {
                problem(join(path, k), "unknown member (known: " + String.join(", ", known) + ")");
            }
        }
    }

    private static String join(String path, String member) {
        return path.isEmpty() ? member : path + "." + member;
    }

    private String string(Map<String, Object> m, String path, String key, String absent) {
        Object v = m.get(key);
        if (v == null) {
            if (absent == null) {
                problem(join(path, key), "is missing");
                return "";
            }
            return absent;
        }
        if (v instanceof String s) {
            return s;
        }
        problem(join(path, key), "must be a string, got " + Json.describe(v));
        return absent == null ? "" : absent;
    }

    private long number(Map<String, Object> m, String path, String key, long absent, long min, long max) {
        Object v = m.get(key);
        if (v == null) {
            return absent;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            long l = n.longValue();
            if (l < min || l > max) {
                problem(join(path, key), "must be between " + min + " and " + max + ", got " + l);
                return absent;
            }
            return l;
        }
        problem(join(path, key), "must be a whole number, got " + Json.describe(v));
        return absent;
    }

    private List<String> strings(Map<String, Object> m, String path, String key) {
        Object v = m.get(key);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!(v instanceof List<?> list)) {
            problem(join(path, key), "must be a list of strings, got " + Json.describe(v));
            return out;
        }
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) instanceof String s) {
                out.add(s);
            } else {
                problem(join(path, key) + "[" + i + "]", "must be a string, got " + Json.describe(list.get(i)));
            }
        }
        return out;
    }

    private CampaignSpec spec(Object rootValue, Path workdirOverride) {
        Map<String, Object> root = object(rootValue, "");
        unknownMembers(root, "", TOP);
        String name = string(root, "", "name", null);
        if (!name.isEmpty() && !NAME.matcher(name).matches()) {
            problem("name", "must be 1-32 letters, digits, '.', '_' or '-': '" + name + "'");
        }
        String fs = string(root, "", "filesystem", "ext4");
        if (!List.of("ext4", "xfs").contains(fs)) {
            problem("filesystem", "must be ext4 or xfs, got '" + fs + "'");
        } else if (HostPrograms.find("mkfs." + fs) == null) {
            problem(
                    "filesystem",
                    "mkfs." + fs + " is not installed (Debian: " + (fs.equals("xfs") ? "xfsprogs" : "e2fsprogs") + ")");
        }
        Path workdir =
                workdirOverride != null ? workdirOverride : Path.of(string(root, "", "workdir", "campaign-" + name));
        if (!workdir.isAbsolute()) {
            workdir = file.toAbsolutePath().getParent().resolve(workdir).normalize();
        }

        List<CampaignSpec.Node> nodes = nodes(root.get("nodes"), fs);
        Set<String> everyVar = varsOfEveryNode(nodes);

        Map<String, Object> commands = object(root.getOrDefault("commands", Map.of()), "commands");
        if (!root.containsKey("commands")) {
            problem("commands", "is missing: a campaign needs at least commands.start");
        }
        unknownMembers(commands, "commands", COMMANDS);
        String start = command(commands, "commands", "start", true, everyVar);
        String stop = command(commands, "commands", "stop", false, everyVar);
        String probe = command(commands, "commands", "probe", true, everyVar);
        String role = command(commands, "commands", "role", false, everyVar);
        String setup = command(root, "", "setup", false, everyVar);
        String workload = command(root, "", "workload", true, everyVar);
        String check = command(root, "", "check", true, everyVar);

        List<FaultKind> faults = new ArrayList<>();
        List<String> faultNames = root.containsKey("faults") ? strings(root, "", "faults") : FaultKind.names();
        for (int i = 0; i < faultNames.size(); i++) {
            String f = faultNames.get(i);
            FaultKind.byName(f)
                    .ifPresentOrElse(
                            faults::add,
                            () -> problem(
                                    "faults[" + faultNames.indexOf(f) + "]",
                                    "unknown fault kind '" + f + "' (known: " + String.join(", ", FaultKind.names())
                                            + ")"));
        }
        if (root.containsKey("faults") && faultNames.isEmpty()) {
            problem("faults", "must name at least one fault kind");
        }

        Map<String, Object> targets = object(root.getOrDefault("targets", Map.of()), "targets");
        unknownMembers(targets, "targets", TARGETS);
        List<String> files = strings(targets, "targets", "files");
        for (int i = 0; i < files.size(); i++) {
            String g = files.get(i);
            if (g.startsWith("/") || g.contains("..")) {
                problem("targets.files[" + i + "]", "must be relative to the mount point, without '..': '" + g + "'");
            }
            try {
                java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + g);
            } catch (RuntimeException e) {
                problem("targets.files[" + i + "]", "is not a glob pattern: " + e.getMessage());
            }
        }
        boolean structures = true;
        if (targets.get("structures") instanceof Boolean b) {
            structures = b;
        } else if (targets.containsKey("structures")) {
            problem("targets.structures", "must be true or false");
        }

        // "blocks": every 4 KiB block of a file the trace saw touched is a target of its own
        int pieces = "blocks".equals(targets.get("pieces")) ? 0 : (int) number(targets, "targets", "pieces", 1, 1, 64);
        Map<String, Object> t = object(root.getOrDefault("timeouts", Map.of()), "timeouts");
        unknownMembers(t, "timeouts", TIMEOUTS);
        CampaignSpec.Timeouts timeouts = new CampaignSpec.Timeouts(
                Duration.ofSeconds(number(t, "timeouts", "start-s", 30, 1, 3600)),
                Duration.ofSeconds(number(t, "timeouts", "setup-s", 120, 1, 86_400)),
                Duration.ofSeconds(number(t, "timeouts", "workload-s", 60, 1, 86_400)),
                Duration.ofSeconds(number(t, "timeouts", "check-s", 60, 1, 86_400)),
                Duration.ofSeconds(number(t, "timeouts", "stop-s", 10, 1, 3600)));
        long slowMs = number(root, "", "slow-ms", 2000, 1, 600_000);
        long seed = number(root, "", "seed", 1, Long.MIN_VALUE, Long.MAX_VALUE);
        String restartName = string(root, "", "restart", CampaignSpec.Restart.WRITE_FAULTS.wireName());
        CampaignSpec.Restart restart = CampaignSpec.Restart.byName(restartName).orElse(null);
        if (restart == null) {
            problem("restart", "must be write-faults, always or never, got '" + restartName + "'");
            restart = CampaignSpec.Restart.WRITE_FAULTS;
        }
        return new CampaignSpec(
                name,
                file,
                workdir,
                fs,
                strings(root, "", "mkfs-options"),
                string(root, "", "mount-options", ""),
                nodes,
                start,
                stop,
                probe,
                role,
                setup,
                workload,
                check,
                List.copyOf(faults),
                List.copyOf(files),
                structures,
                pieces,
                timeouts,
                slowMs,
                seed,
                restart);
    }

    private List<CampaignSpec.Node> nodes(Object value, String campaignFs) {
        List<CampaignSpec.Node> out = new ArrayList<>();
        if (value == null) {
            problem("nodes", "is missing: a campaign needs at least one node");
            return out;
        }
        if (!(value instanceof List<?> list) || list.isEmpty() || list.size() > MAX_NODES) {
            problem("nodes", "must be a list of 1 to " + MAX_NODES + " nodes");
            return out;
        }
        Set<String> names = new HashSet<>();
        Set<String> exports = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "nodes[" + i + "]";
            Map<String, Object> n = object(list.get(i), path);
            unknownMembers(n, path, NODE);
            String name = string(n, path, "name", "n" + (i + 1));
            if (!NAME.matcher(name).matches()) {
                problem(path + ".name", "must be 1-32 letters, digits, '.', '_' or '-': '" + name + "'");
            } else if (!names.add(name)) {
                problem(path + ".name", "'" + name + "' names another node too");
            }
            String qmp = string(n, path, "qmp", null);
            if (!qmp.isEmpty() && !qmp.startsWith("unix:") && !qmp.matches(".+:\\d{1,5}")) {
                problem(path + ".qmp", "must be HOST:PORT or unix:PATH, got '" + qmp + "'");
            }
            String nbd = string(n, path, "nbd", ""); // none: the URI the server gives for the export
            if (!nbd.isEmpty() && !nbd.startsWith("nbd://") && !nbd.startsWith("nbd+unix://")) {
                problem(
                        path + ".nbd",
                        "must be an NBD URI (nbd://HOST:PORT/EXPORT or nbd+unix:///EXPORT?socket=PATH), got '" + nbd
                                + "'");
            }
            if (nbd.isEmpty() && !n.containsKey("export")) {
                problem(path, "give nbd (the export's NBD URI) or export (its name; the server then says where it is)");
            }
            String export = string(n, path, "export", exportOf(nbd));
            if (!exports.add(qmp + "/" + export)) {
                problem(path + ".export", "export '" + export + "' on " + qmp + " belongs to another node too");
            }
            if (!nbd.isEmpty() && !export.equals(exportOf(nbd))) {
                problem(
                        path + ".nbd",
                        "names export '" + exportOf(nbd) + "' but the node's export is '" + export + "'");
            }
            String spec = string(n, path, "export-spec", "memory:256M");
            Map<String, String> vars = new LinkedHashMap<>();
            Map<String, Object> v = object(n.getOrDefault("vars", Map.of()), path + ".vars");
            v.forEach((k, val) -> {
                if (val instanceof String || val instanceof Number) {
                    vars.put(k, val instanceof Number num ? Json.write(num) : (String) val);
                } else {
                    problem(path + ".vars." + k, "must be a string or a number, got " + Json.describe(val));
                }
            });
            String fs = string(n, path, "filesystem", campaignFs);
            boolean own = n.containsKey("filesystem"); // else the campaign's, checked once there
            if (own && !List.of("ext4", "xfs").contains(fs)) {
                problem(path + ".filesystem", "must be ext4 or xfs, got '" + fs + "'");
            } else if (own && HostPrograms.find("mkfs." + fs) == null) {
                problem(path + ".filesystem", "mkfs." + fs + " is not installed");
            }
            String mount = string(n, path, "mount", "");
            if (!mount.isEmpty() && !mount.startsWith("/")) {
                problem(path + ".mount", "must be an absolute path, got '" + mount + "'");
            }
            out.add(new CampaignSpec.Node(
                    i + 1,
                    name,
                    qmp,
                    nbd,
                    export,
                    spec,
                    Map.copyOf(vars),
                    fs,
                    mount.isEmpty() ? null : Path.of(mount)));
        }
        return out;
    }

    private static String exportOf(String nbd) {
        try {
            String p = java.net.URI.create(nbd).getPath();
            return p == null || p.length() <= 1 ? "" : p.substring(1);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static Set<String> varsOfEveryNode(List<CampaignSpec.Node> nodes) {
        Set<String> every = null;
        for (CampaignSpec.Node n : nodes) {
            if (every == null) {
                every = new HashSet<>(n.vars().keySet());
            } else {
                every.retainAll(n.vars().keySet());
            }
        }
        return every == null ? Set.of() : every;
    }

    private String command(Map<String, Object> m, String path, String key, boolean required, Set<String> vars) {
        String c = string(m, path, key, required ? null : "");
        for (String bad : Placeholders.unknown(c, vars)) {
            problem(
                    join(path, key),
                    "unknown placeholder " + bad + " (known: {node}, {name}, {mount}, {dir}, "
                            + "{var:X} and {all:X} for a variable X every node has, {campaign}, {workdir}, {run}, {acked}, {slot})");
        }
        return c;
    }
}
