package dev.faultdisk.cli;

import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.fault.blkdebug.BlkdebugConfig;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code faultdisk serve --config FILE}: a server described in JSON (docs/CONFIG.md). The file is
 * checked whole before anything starts: its shape, every export (rule files read, images looked
 * at, nothing created), then every rule, preset, trigger and command run against a stand-in
 * server over memory exports that listens nowhere. Each problem names the file, the line and
 * the member; any problem and nothing starts.
 */
final class ServeConfig {
    private static final Set<String> TOP_KEYS =
            Set.of("nbd", "qmp", "http", "metrics", "seed", "journal", "exports", "triggers", "commands");
    private static final Set<String> EXPORT_KEYS = Set.of("name", "spec", "faults", "presets", "blkdebug");
    private static final Set<String> PRESET_KEYS = Set.of("preset", "params");
    private static final Set<String> COMMAND_KEYS = Set.of("execute", "arguments");

    /**
     * One control command the config asks for at start. Member paths in its errors that start
     * with {@code argument} (e.g. {@code rules[0].errno}) are paths under {@code where} in the file.
     */
    private record Step(String where, String argument, String command, Map<String, Object> arguments) {}

    /** What the file says beyond the builder: the journal file, if any. */
    record Loaded(Path journal) {}

    /** A config that cannot start, with every problem found, each "FILE:LINE: member: what". */
    static final class ConfigException extends Exception {
        private final List<String> problems;

        ConfigException(List<String> problems) {
            super(String.join("\n", problems));
            this.problems = List.copyOf(problems);
        }

        List<String> problems() {
            return problems;
        }
    }

    private record Problem(int line, String text) {}

    private final Path file;
    private final JsonPositions positions;
    private final List<Problem> problems = new ArrayList<>();
    private final List<ExportSpec> specs = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<SocketAddress> qmp = new ArrayList<>();
    private SocketAddress nbd = Endpoints.parse("127.0.0.1:10809");
    private InetSocketAddress http;
    private InetSocketAddress metrics;
    private Long seed;
    private Path journal;

    private ServeConfig(Path file, String text) {
        this.file = file;
        this.positions = JsonPositions.of(text);
    }

    /**
     * Reads and checks the file and, if it is sound, configures {@code into} as it says; on any
     * problem throws them all, and nothing was started.
     */
    static Loaded load(Path file, FaultdiskServer.Builder into) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read: " + FileErrors.reason(e)));
        }
        ServeConfig config = new ServeConfig(file, text);
        Object root;
        try {
            root = Json.parse(text);
        } catch (JsonException e) {
            throw new ConfigException(List.of(file + ":" + e.line() + ": not valid JSON: " + e.messageWithPlace()));
        }
        if (config.read(root)) {
            config.dryRun(); // also when the shape had problems, so that one run reports them all
        }
        if (!config.problems.isEmpty()) {
            throw new ConfigException(config.problems.stream()
                    .sorted(Comparator.comparingInt(Problem::line))
                    .map(Problem::text)
                    .toList());
        }
        config.configure(into, false);
        return new Loaded(config.journal);
    }

    private void problem(String where, String message) {
        int line = positions.lineOf(where);
        problems.add(new Problem(line, file + ":" + line + ": " + where + ": " + message));
    }

    /** Reads the shape, exports and steps; false if there is nothing to run. */
    private boolean read(Object root) {
        if (!(root instanceof Map<?, ?> rootMap)) {
            problem("", "a config is a JSON object with \"exports\", not " + Json.describe(root));
            return false;
        }
        Map<String, Object> top = cast(rootMap);
        unknownKeys(top, TOP_KEYS, "");
        if (top.containsKey("nbd")) {
            nbd = address(top.get("nbd"), "nbd");
        }
        http = tcp(top, "http");
        metrics = tcp(top, "metrics");
        Object q = top.getOrDefault("qmp", "127.0.0.1:4444");
        List<?> qmpList = q instanceof List<?> l ? l : List.of(q);
        for (int i = 0; i < qmpList.size(); i++) {
            String where = q instanceof List<?> ? "qmp[" + i + "]" : "qmp";
            if (!"none".equals(qmpList.get(i))) {
                SocketAddress a = address(qmpList.get(i), where);
                if (a != null) {
                    qmp.add(a);
                }
            }
        }
        if (top.containsKey("seed")) {
            if (top.get("seed") instanceof Long s) {
                seed = s;
            } else {
                problem("seed", "needs a whole number, not " + Json.describe(top.get("seed")));
            }
        }
        if (top.containsKey("journal")) {
            String j = string(top, "journal", "journal");
            if (j != null) {
                journal = Path.of(j); // relative to the working directory, as on the command line
                if (!Files.isDirectory(journal.toAbsolutePath().getParent())) {
                    problem("journal", "the directory of " + journal + " does not exist");
                }
            }
        }
        List<?> exports = list(top.getOrDefault("exports", List.of()), "exports");
        if (exports.isEmpty() && top.containsKey("exports")) {
            problem("exports", "needs at least one export");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < exports.size(); i++) {
            export(exports.get(i), "exports[" + i + "]", names);
        }
        if (!top.containsKey("exports")) {
            specs.add(ExportSpec.parse("disk0=memory:1G"));
        }
        if (top.containsKey("triggers")) {
            steps.add(new Step(
                    "triggers",
                    "triggers",
                    "trigger-add",
                    arguments("triggers", list(top.get("triggers"), "triggers"))));
        }
        List<?> commands = list(top.getOrDefault("commands", List.of()), "commands");
        for (int i = 0; i < commands.size(); i++) {
            command(commands.get(i), "commands[" + i + "]");
        }
        return !specs.isEmpty();
    }

    private void export(Object value, String where, Set<String> names) {
        Map<String, Object> m = object(value, where, "an export is an object with \"name\" and \"spec\"", EXPORT_KEYS);
        if (m == null) {
            return;
        }
        String name = string(m, "name", where + ".name");
        String specText = string(m, "spec", where + ".spec");
        if (name == null || specText == null) {
            return;
        }
        if (!names.add(name)) {
            problem(where + ".name", "export '" + name + "' is declared twice");
        }
        try {
            ExportSpec spec = ExportSpec.parse(name, specText);
            spec.sizeWithoutOpening();
            for (Path rules : spec.ruleFiles()) {
                BlkdebugConfig.load(rules);
            }
            specs.add(spec);
        } catch (IllegalArgumentException | IOException e) {
            problem(where + ".spec", e.getMessage());
            return;
        }
        ruleList(m, where, name, "blkdebug", "blkdebug-set-rules");
        ruleList(m, where, name, "faults", "fault-add");
        List<?> presets = list(m.getOrDefault("presets", List.of()), where + ".presets");
        for (int i = 0; i < presets.size(); i++) {
            String at = where + ".presets[" + i + "]";
            Map<String, Object> p =
                    object(presets.get(i), at, "a preset is an object with \"preset\" and \"params\"", PRESET_KEYS);
            if (p == null) {
                continue;
            }
            Map<String, Object> args = arguments("device", name, "preset", p.get("preset"));
            if (p.containsKey("params")) {
                args.put("params", p.get("params"));
            }
            steps.add(new Step(at, "params", "fault-preset", args));
        }
    }

    /** A list of rules of an export ({@code member}) becomes one {@code command} with them as "rules". */
    private void ruleList(Map<String, Object> export, String where, String name, String member, String command) {
        if (export.containsKey(member)) {
            String at = where + "." + member;
            steps.add(new Step(at, "rules", command, arguments("device", name, "rules", list(export.get(member), at))));
        }
    }

    private void command(Object value, String where) {
        Map<String, Object> m =
                object(value, where, "a command is an object with \"execute\" and \"arguments\"", COMMAND_KEYS);
        if (m == null) {
            return;
        }
        String name = string(m, "execute", where + ".execute");
        Object args = m.getOrDefault("arguments", Map.of());
        if (!(args instanceof Map<?, ?> a)) {
            problem(where + ".arguments", "must be an object, not " + Json.describe(args));
        } else if (name != null) {
            steps.add(new Step(where + ".arguments", null, name, cast(a)));
        }
    }

    /** Runs every step against a stand-in server that listens nowhere, recording what fails. */
    private void dryRun() {
        try {
            FaultdiskServer.Builder stand = FaultdiskServer.builder();
            configure(stand, true);
            stand.check();
        } catch (IOException | RuntimeException e) {
            problem("exports", e.getMessage());
        }
    }

    /** Configures the server the file describes; for a check its steps record their failures, else they throw. */
    private void configure(FaultdiskServer.Builder b, boolean check) {
        b.nbd(nbd);
        specs.forEach(b::export);
        qmp.forEach(b::qmp);
        if (http != null && !check) {
            b.http(http);
        }
        if (metrics != null && !check) {
            b.metrics(metrics);
        }
        if (seed != null) {
            b.faultSeed(seed);
        }
        if (journal != null && !check) {
            b.journal(journal);
        }
        b.setup(server -> {
            for (Step step : steps) {
                try {
                    server.commands().invoke(step.command(), step.arguments());
                } catch (QmpError e) {
                    Problem p = inFile(step, e.desc());
                    if (!check) {
                        throw new IllegalArgumentException(p.text(), e);
                    }
                    problems.add(p);
                }
            }
        });
    }

    /** An error of a step as "FILE:LINE: message", its member paths made paths in the file. */
    private Problem inFile(Step step, String message) {
        String text = message;
        if (step.argument() != null) {
            text = text.replaceAll(
                    "(?<![\\w.-])" + Pattern.quote(step.argument()) + "(?=[\\[.])",
                    Matcher.quoteReplacement(step.where()));
        }
        Matcher m = Pattern.compile(Pattern.quote(step.where()) + "(\\[\\d+\\]|\\.[\\w-]+)*")
                .matcher(text);
        String at = m.find() ? m.group() : step.where();
        if (!text.contains(step.where())) {
            text = step.where() + ": " + text;
        }
        int line = positions.lineOf(at);
        return new Problem(line, file + ":" + line + ": " + text);
    }

    /** An HTTP listen address ([HOST:]PORT), or null if the member is absent or bad. */
    private InetSocketAddress tcp(Map<String, Object> top, String member) {
        if (!top.containsKey(member)) {
            return null;
        }
        Object value = top.get(member);
        if (!(value instanceof String s)) {
            problem(member, "needs an address string ([HOST:]PORT), not " + Json.describe(value));
            return null;
        }
        try {
            return Endpoints.tcp(s);
        } catch (IllegalArgumentException e) {
            problem(member, e.getMessage());
            return null;
        }
    }

    private SocketAddress address(Object value, String where) {
        if (!(value instanceof String s)) {
            problem(where, "needs an address string (HOST:PORT or unix:PATH), not " + Json.describe(value));
            return null;
        }
        try {
            return Endpoints.parse(s);
        } catch (IllegalArgumentException e) {
            problem(where, e.getMessage());
            return null;
        }
    }

    private String string(Map<?, ?> m, String key, String where) {
        Object v = m.get(key);
        if (!(v instanceof String s) || s.isEmpty()) {
            problem(where, "needs a non-empty string, not " + Json.describe(v));
            return null;
        }
        return s;
    }

    private List<?> list(Object value, String where) {
        if (value instanceof List<?> l) {
            return l;
        }
        problem(where, "needs an array, not " + Json.describe(value));
        return List.of();
    }

    /** {@code value} as an object with only {@code known} members, or null (and a problem) if it is not one. */
    private Map<String, Object> object(Object value, String where, String what, Set<String> known) {
        if (!(value instanceof Map<?, ?> raw)) {
            problem(where, what + ", not " + Json.describe(value));
            return null;
        }
        Map<String, Object> m = cast(raw);
        unknownKeys(m, known, where + ".");
        return m;
    }

    private void unknownKeys(Map<?, ?> m, Set<String> known, String prefix) {
        for (Object key : m.keySet()) {
            if (!known.contains((String) key)) {
                problem(
                        prefix + key,
                        "unknown member (expected one of "
                                + known.stream().sorted().toList() + ")");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m; // parsed JSON: keys are strings
    }

    private static Map<String, Object> arguments(Object... namesAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return m;
    }
}
