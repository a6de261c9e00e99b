package dev.faultdisk.server;

import static dev.faultdisk.server.BlockCommands.DEVICE;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.history.CrashState;
import dev.faultdisk.history.HistoryStatus;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.wire.json.Members;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Recorded histories and crash states (docs/EXPLORE.md): history-start, history-mark,
 * history-stop, query-history, history-materialize and history-release.
 */
final class HistoryCommands {
    /** Default budget of a history file. */
    static final long DEFAULT_MAX_BYTES = 1L << 30;

    private HistoryCommands() {}

    static void register(CommandRegistry commands, ExportRegistry exports) {
        commands.register(QmpCommand.builder("history-start")
                .doc("""
                        Starts recording the export's history into a new file: every completed write with its data,
                        trim, write-zeroes and FUA, each flush when it begins and completes, and marks. First takes
                        snapshot "base" of the data (the write cache persisted), in the same pause of the data path,
                        so base plus the history's changes is every state the disk went through. The recorder sits above
                        the write cache, under the fault layers. Recording stops by itself when the file reaches
                        max-bytes (the history is then marked overflowed).""")
                .argument(DEVICE)
                .optional(
                        "path",
                        ArgType.STRING,
                        "the history file to create (default: a new file in the temporary directory)")
                .optional("base", ArgType.STRING, "name of the base snapshot (default history-base)")
                .optional("max-bytes", ArgType.INT, "size budget of the file (default 1 GiB)")
                .optional(
                        "reads",
                        ArgType.BOOL,
                        "log every completed read too, its place and length without its data (default false)")
                .returns("HistoryStatus")
                .example("-> {\"execute\": \"history-start\", \"arguments\": {\"device\": \"disk0\", \"path\": "
                        + "\"/tmp/run1.history\"}}")
                .example("<- {\"return\": {\"recording\": true, \"path\": \"/tmp/run1.history\", \"base\": "
                        + "\"history-base\", \"entries\": 0, \"bytes\": 512}}")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    String base = args.string("base", "history-base");
                    Path path = args.has("path")
                            ? Path.of(args.string("path"))
                            : Path.of(
                                    System.getProperty("java.io.tmpdir"),
                                    "faultdisk-" + e.name() + "-" + System.nanoTime() + ".history");
                    long max = args.integer("max-bytes", DEFAULT_MAX_BYTES);
                    boolean reads = args.bool("reads", false);
                    return status(refused(e, () -> e.historyStart(path.toAbsolutePath(), base, max, reads)));
                })
                .build());
        commands.register(QmpCommand.builder("history-mark")
                .doc("""
                        Adds a mark to the history being recorded: a label at this point of the run, e.g. an
                        application's acknowledgement ("ack KEY"). Returns the mark's entry number.""")
                .argument(DEVICE)
                .required("label", ArgType.STRING, "the mark's text (at most 4096 bytes of UTF-8)")
                .returns("int")
                .example("-> {\"execute\": \"history-mark\", \"arguments\": {\"device\": \"disk0\", \"label\": "
                        + "\"ack row-17\"}}")
                .example("<- {\"return\": 1234}")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    return refused(e, () -> e.historyMark(args.string("label")));
                })
                .build());
        commands.register(QmpCommand.builder("history-stop")
                .doc("""
                        Stops recording and closes the history file, forced to the disk. The base snapshot stays, for
                        history-materialize.""")
                .argument(DEVICE)
                .returns("HistoryStatus")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    return status(refused(e, e::historyStop));
                })
                .build());
        commands.register(QmpCommand.builder("query-history")
                .doc("""
                        The history being recorded on the export, or its last one: file, base snapshot, entries and
                        bytes so far, and why it stopped early if it did.""")
                .argument(DEVICE)
                .returns("HistoryStatus")
                .handler(args -> {
                    HistoryStatus s = BlockCommands.export(exports, args).historyStatus();
                    return s == null ? Map.of("recording", false) : status(s);
                })
                .build());
        commands.register(QmpCommand.builder("history-materialize")
                .doc("""
                        Puts the export's data into a crash state of a history recorded from it: its base snapshot, then
                        every change logged before entry "prefix", then the changes listed in "apply", in log order;
                        a change listed in "torn" lands only in the given logical blocks (512 bytes, counted from the
                        change's first byte). Copy-on-write and incremental: a checkpoint snapshot holds the last prefix
                        built. Like a revert, cached data is dropped.""")
                .argument(DEVICE)
                .required("path", ArgType.STRING, "the history file")
                .required("prefix", ArgType.INT, "entries whose changes all landed")
                .optional("apply", ArgType.LIST, "entry numbers of later changes that landed too")
                .optional("torn", ArgType.LIST, "[{\"entry\": N, \"blocks\": [B, ...]}]: changes that landed torn")
                .returns("int")
                .example("-> {\"execute\": \"history-materialize\", \"arguments\": {\"device\": \"disk0\", \"path\": "
                        + "\"/tmp/run1.history\", \"prefix\": 120, \"apply\": [122, 125], \"torn\": [{\"entry\": "
                        + "125, \"blocks\": [0, 3]}]}}")
                .example("<- {\"return\": 5120}")
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    CrashState state = refused(e, () -> state(args));
                    return refused(e, () -> e.materialize(Path.of(args.string("path")), state));
                })
                .build());
        commands.register(QmpCommand.builder("history-release")
                .doc("""
                        Closes the history history-materialize read and deletes its checkpoint snapshot. The export's
                        data stays as it is; the base snapshot stays.""")
                .argument(DEVICE)
                .handler(args -> {
                    Export e = BlockCommands.export(exports, args);
                    refused(e, () -> {
                        e.historyRelease();
                        return null;
                    });
                    return Map.of();
                })
                .build());
    }

    private static CrashState state(Members args) {
        TreeSet<Long> applied = new TreeSet<>(args.has("apply") ? args.integers("apply") : List.of());
        Map<Long, List<Integer>> torn = new LinkedHashMap<>();
        if (args.has("torn")) {
            for (Members t : args.objects("torn")) {
                long entry = t.integer("entry");
                List<Integer> blocks = new ArrayList<>();
                for (long b : t.integers("blocks")) {
                    if (b < 0 || b > Integer.MAX_VALUE) {
                        throw new IllegalArgumentException("torn block " + b + " out of range");
                    }
                    blocks.add((int) b);
                }
                torn.put(entry, List.copyOf(blocks));
                applied.add(entry);
            }
        }
        return new CrashState(args.integer("prefix"), applied, torn);
    }

    static Map<String, Object> status(HistoryStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("recording", s.recording());
        m.put("path", s.path().toString());
        m.put("base", s.baseSnapshot());
        m.put("entries", s.entries());
        m.put("bytes", s.bytes());
        if (s.failure() != null) {
            m.put("failure", s.failure());
        }
        return m;
    }

    /** As {@link ExportCall#run}; a history in the wrong state (none recording, one already) is bad input too. */
    private static <T> T refused(Export e, ExportCall<T> call) {
        try {
            return ExportCall.run(e, call);
        } catch (IllegalStateException ex) {
            throw QmpError.generic("%s", ex.getMessage());
        }
    }
}
