package dev.faultdisk.explore;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.HistoryInfo;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code faultdisk explore}: records a workload's run on an export, then checks the crash states
 * of that run (docs/EXPLORE.md). The export is attached once (nbdfuse, a loop device with direct
 * I/O); each state is materialized by the server from the run's base snapshot, the loop device's
 * cache is dropped, and the file system is mounted (journal recovery runs), checked by the user's
 * command, unmounted and checked read-only by fsck. Failing states are minimized. A report
 * (JSON and HTML) is written even when the run is interrupted; nothing is left attached.
 */
public final class Explorer {
    private static final Duration STEP = Duration.ofSeconds(60);
    private static final int MINIMIZE_TESTS = 48;
    private static final int MAX_ERRORS_IN_A_ROW = 3;

    private final FaultdiskClient client;
    private final ExploreOptions o;
    private final String run;
    private final Path runDir;
    private final Path mnt;
    private final Path history;
    private final String base;
    private final String finalSnapshot;
    private volatile boolean stopping;
    /** The server has the export: clean-up has something to put back. */
    private boolean exportFound;

    private LoopDisk disk;
    private boolean finalTaken;
    private ExploreReport lastReport;
    private final List<String> acks = Collections.synchronizedList(new ArrayList<>());

    private Explorer(FaultdiskClient client, ExploreOptions o) {
        this.client = client;
        this.o = o;
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC)
                .format(Instant.now());
        this.runDir = (o.runDir != null ? o.runDir : Path.of("faultdisk-explore", stamp))
                .toAbsolutePath()
                .normalize();
        this.run = runDir.getFileName().toString().replaceAll("[^A-Za-z0-9_.-]", "_");
        this.mnt = runDir.resolve("mnt");
        this.history = runDir.resolve("history.log");
        this.base = "explore-" + run;
        this.finalSnapshot = base + ".final";
    }

    /**
     * Runs an exploration through {@code client}'s server and returns its report (also written to
     * the run directory). Needs root, /dev/fuse and the host tools; says which is missing.
     *
     * @throws ExploreException when exploration cannot run or go on (bad input, a failing setup or
     *     workload); what was set up is taken down first
     */
    public static ExploreReport explore(FaultdiskClient client, ExploreOptions options) throws ExploreException {
        preflight(options.fs, HostPrograms.uid(), Path.of("/dev/fuse"));
        Explorer x = new Explorer(client, options);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(
                () -> { // the JVM is going down: stop, keep the report, take everything down
                    x.stop();
                    try {
                        done.await(120, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return x.runAll();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs and returns at once
            }
        }
    }

    /**
     * Stops between steps: the program running now is killed, no new state is started, the
     * report keeps what was found and everything is taken down. The QMP connection is left alone
     * (interrupting its thread would close it), so the export can still be put back.
     */
    private void stop() {
        stopping = true;
        Proc.killAll();
    }

    /** Throws with what to do unless this host can attach and mount exports. */
    static void preflight(String fs, int uid, Path devFuse) throws ExploreException {
        if (uid != 0) {
            throw new ExploreException("faultdisk explore needs root: it attaches the export with a loop device and"
                    + " mounts its crash states (run it with sudo)");
        }
        if (!Files.exists(devFuse)) {
            throw new ExploreException(devFuse + " does not exist: nbdfuse needs it (load the fuse module:"
                    + " modprobe fuse; in a container, pass --device /dev/fuse)");
        }
        List<String> tools = new ArrayList<>(List.of(
                "nbdfuse",
                "fusermount3",
                "losetup",
                "blockdev",
                "mount",
                "umount",
                "fsfreeze",
                "sh",
                "setsid",
                "nsenter"));
        tools.addAll(fs.equals("xfs") ? List.of("mkfs.xfs", "xfs_repair") : List.of("mkfs.ext4", "e2fsck"));
        String missing = HostPrograms.missing(tools);
        if (missing != null) {
            throw new ExploreException(missing);
        }
    }

    private ExploreReport runAll() throws ExploreException {
        List<CrashPoint> points = List.of();
        List<PlannedState> plan = List.of();
        List<StateResult> results = new ArrayList<>();
        List<Minimized> minimized = new ArrayList<>();
        List<Map<String, Object>> timeline = List.of();
        long exploreStart = 0;
        double firstViolation = -1;
        try {
            prepare();
            record();
            if (stopping) {
                throw new ExploreException("interrupted while recording the workload");
            }
            try (HistoryReader reader = HistoryReader.open(history)) {
                List<HistoryEntry> entries = reader.entries();
                points = CrashPoint.of(entries);
                Map<Long, List<List<Integer>>> unitsOf = new HashMap<>();
                for (HistoryEntry e : entries) {
                    if (e.isChange()) {
                        unitsOf.put(e.index(), TearUnits.of(e.offset(), e.length(), o.tearSize));
                    }
                }
                plan = StatePlanner.plan(points, unitsOf, o.maxStates, o.seed);
                timeline = ReportWriter.timeline(entries);
                exploreStart = System.nanoTime();
                int errorsInARow = 0;
                ExploreProgress progress = new ExploreProgress(o.progress, plan.size());
                for (PlannedState s : plan) {
                    if (stopping) {
                        break;
                    }
                    StateResult r = check(s, points.get(s.point()));
                    if (stopping) {
                        break; // its check was cut short by the stop: no verdict
                    }
                    results.add(r);
                    if (r.verdict().isViolation() && firstViolation < 0) {
                        firstViolation = (System.nanoTime() - exploreStart) / 1e9;
                    }
                    errorsInARow = r.verdict() == Verdict.ERROR ? errorsInARow + 1 : 0;
                    if (errorsInARow >= MAX_ERRORS_IN_A_ROW) {
                        throw new ExploreException("exploration stopped: " + errorsInARow + " states in a row failed to"
                                + " build or check; the last: " + r.checkOutput());
                    }
                    progress.update(results);
                }
                progress.finish();
                WriteNamer namer = namer();
                Set<Integer> pointsDone = new HashSet<>();
                for (StateResult r : results) {
                    if (stopping || minimized.size() >= o.minimize) {
                        break;
                    }
                    if (!r.verdict().isViolation() || !pointsDone.add(r.state().point())) {
                        continue;
                    }
                    minimized.add(minimize(r, points.get(r.state().point()), unitsOf, entries, namer));
                }
            } catch (IOException e) {
                throw new ExploreException("cannot read the history " + history + ": " + FileErrors.reason(e));
            }
        } finally {
            double seconds = exploreStart == 0 ? 0 : (System.nanoTime() - exploreStart) / 1e9;
            ExploreReport report = new ExploreReport(
                    run,
                    runDir,
                    o.export,
                    history,
                    List.copyOf(acks),
                    points,
                    plan.size(),
                    List.copyOf(results),
                    List.copyOf(minimized),
                    stopping,
                    seconds,
                    firstViolation,
                    timeline);
            try {
                cleanUp();
            } finally {
                if (!points.isEmpty() || stopping) {
                    writeReport(report);
                }
            }
            lastReport = report;
            ExploreProgress.summarize(o.progress, report);
        }
        return lastReport;
    }

    /** The URI to attach: the one asked for, else the one the server gives for the export. */
    private String uri() {
        if (o.uri != null) {
            return o.uri;
        }
        return client.exportUri(o.export).orElse("nbd://127.0.0.1:10809/" + o.export);
    }

    private void prepare() throws ExploreException {
        try {
            client.querySnapshots(o.export);
            exportFound = true;
        } catch (QmpException e) {
            throw new ExploreException("the server has no export '" + o.export + "' (" + e.getMessage() + ")");
        }
        try {
            Files.createDirectories(runDir);
            disk = LoopDisk.attach(
                    uri(), runDir.resolve("fuse"), runDir.resolve("nbdfuse.log"), LoopDevice.Option.DIRECT_IO);
            if (o.mkfs) {
                if (o.fs.equals("xfs")) {
                    Proc.check(STEP, "mkfs.xfs", "-q", "-f", disk.device());
                } else {
                    Proc.check(
                            STEP,
                            "mkfs.ext4",
                            "-q",
                            "-F",
                            "-E",
                            "lazy_itable_init=0,lazy_journal_init=0",
                            disk.device());
                }
            }
            Proc.Result m = disk.tryMount(mnt, o.fs, o.mountOptions, STEP);
            if (!m.ok()) {
                throw new ExploreException("cannot mount the export's " + o.fs + " file system: " + m.message());
            }
            if (o.setup != null && !o.setup.isBlank()) {
                Proc.Result r = Proc.run(o.workloadTimeout, shell(o.setup, mnt.toString()), env(null), mnt, null);
                log("setup.log", r.stdout() + r.stderr());
                if (!r.ok()) {
                    throw new ExploreException("the setup command " + failed(r, o.workloadTimeout) + missingHint(r));
                }
            }
        } catch (IOException e) {
            throw new ExploreException(e.getMessage());
        }
    }

    /** Starts the history on a frozen (clean) file system, runs the workload, stops the history. */
    private void record() throws ExploreException {
        try {
            Proc.check(STEP, "sync", "-f", mnt.toString());
            Proc.check(STEP, "fsfreeze", "-f", mnt.toString());
            try {
                client.historyStart(o.export, history.toString(), base);
            } catch (QmpException e) {
                throw new ExploreException("cannot start recording: " + e.getMessage());
            } finally {
                Proc.check(STEP, "fsfreeze", "-u", mnt.toString());
            }
            Path workloadLog = runDir.resolve("workload.log");
            // if this throws, cleanUp() stops the history
            Proc.Result r = Proc.run(o.workloadTimeout, shell(o.workload, mnt.toString()), env(null), mnt, line -> {
                appendLine(workloadLog, line);
                String t = line.strip();
                if (t.startsWith("ack ") && t.length() > 4) {
                    String key = t.substring(4).strip();
                    try {
                        client.historyMark(o.export, "ack " + key);
                        acks.add(key);
                    } catch (RuntimeException e) { // a label too long, the connection lost: said, not fatal
                        appendLine(runDir.resolve("explore.log"), "ack " + key + " not marked: " + e.getMessage());
                    }
                }
            });
            HistoryInfo stopped = client.historyStop(o.export);
            if (stopped.failure() != null) {
                throw new ExploreException("the history stopped early (" + stopped.failure() + ") after "
                        + stopped.bytes() + " bytes: the workload wrote too much for one history");
            }
            if (!r.ok()) {
                throw new ExploreException("the workload " + failed(r, o.workloadTimeout) + " (its output: "
                        + workloadLog + ")" + missingHint(r));
            }
            disk.unmount();
            client.snapshotCreate(o.export, finalSnapshot);
            finalTaken = true;
        } catch (IOException e) {
            throw new ExploreException(e.getMessage());
        } catch (QmpException e) {
            throw new ExploreException("the server refused: " + e.getMessage());
        }
    }

    /** Names writes by the files of the workload's final state, mounted once more. */
    private WriteNamer namer() {
        try {
            client.snapshotRevert(o.export, finalSnapshot);
            disk.dropCaches();
            if (disk.tryMount(mnt, o.fs, o.mountOptions, STEP).ok()) {
                try {
                    return WriteNamer.of(FileMap.scan(mnt), mnt);
                } finally {
                    disk.unmount();
                }
            }
        } catch (IOException | RuntimeException e) {
            appendLine(runDir.resolve("explore.log"), "file map: " + e.getMessage());
        }
        return WriteNamer.bytes();
    }

    private StateResult check(PlannedState s, CrashPoint point) {
        long start = System.nanoTime();
        try {
            client.historyMaterialize(o.export, history.toString(), s.prefix(), s.applied(), s.torn());
            disk.dropCaches();
            Proc.Result m = disk.tryMount(mnt, o.fs, o.mountOptions, o.stateTimeout);
            if (!m.ok()) {
                Proc.Result f = fsck();
                return new StateResult(
                        s,
                        point.acked().size(),
                        Verdict.UNMOUNTABLE,
                        (m.timedOut() ? "mount timed out; " : "") + m.message(),
                        -1,
                        "",
                        f.ok(),
                        f.ok() ? "" : f.message(),
                        millis(start));
            }
            Path acked = runDir.resolve("acked");
            Files.write(acked, point.acked(), StandardCharsets.UTF_8);
            Proc.Result c;
            try {
                c = Proc.run(
                        o.stateTimeout, shell(o.check, mnt.toString(), acked.toString()), env(s, acked), mnt, null);
            } finally {
                disk.unmount();
            }
            Proc.Result f = fsck();
            Verdict v = c.timedOut()
                    ? Verdict.CHECK_TIMEOUT
                    : c.exit() != 0 ? Verdict.CHECK_FAILED : f.ok() ? Verdict.OK : Verdict.FS_CORRUPT;
            String out = (c.stdout() + c.stderr()).strip();
            return new StateResult(
                    s,
                    point.acked().size(),
                    v,
                    "",
                    c.timedOut() ? -1 : c.exit(),
                    tail(out),
                    f.ok(),
                    f.ok() ? "" : tail(f.stdout() + f.stderr()),
                    millis(start));
        } catch (IOException | RuntimeException e) {
            return new StateResult(
                    s,
                    point.acked().size(),
                    Verdict.ERROR,
                    "",
                    -1,
                    String.valueOf(e.getMessage()),
                    true,
                    "",
                    millis(start));
        }
    }

    private Proc.Result fsck() throws Proc.Failure {
        List<String> cmd = o.fs.equals("xfs")
                ? List.of("xfs_repair", "-n", disk.device())
                : List.of("e2fsck", "-f", "-n", disk.device());
        return Proc.run(o.stateTimeout, cmd);
    }

    private Minimized minimize(
            StateResult failing,
            CrashPoint point,
            Map<Long, List<List<Integer>>> unitsOf,
            List<HistoryEntry> entries,
            WriteNamer namer)
            throws ExploreException {
        Verdict v = failing.verdict();
        Minimizer m =
                new Minimizer(point, unitsOf, s -> !stopping && check(s, point).verdict() == v, MINIMIZE_TESTS);
        List<Minimizer.Loss> lost = Minimizer.losses(point, failing.state(), unitsOf);
        List<Minimizer.Loss> minimal = m.minimize(lost);
        PlannedState reproducer = m.stateLosing(minimal, -1);
        WriteNamer names = minimal.isEmpty() ? namer : WriteNamer.either(namerOf(reproducer, point), namer);
        Map<Long, List<Integer>> byEntry = new LinkedHashMap<>();
        for (Minimizer.Loss l : minimal) {
            List<Integer> blocks = byEntry.computeIfAbsent(l.entry(), k -> new ArrayList<>());
            if (l.unit() >= 0) {
                blocks.addAll(unitsOf.get(l.entry()).get(l.unit()));
            }
        }
        List<Minimized.Dropped> dropped = new ArrayList<>();
        for (Map.Entry<Long, List<Integer>> d : byEntry.entrySet()) {
            HistoryEntry e = entries.get(d.getKey().intValue());
            List<String> owners = new ArrayList<>();
            long length = 0;
            if (d.getValue().isEmpty()) {
                owners.addAll(names.name(e.offset(), e.length()));
                length = e.length();
            } else {
                for (int b : d.getValue()) {
                    for (String n : names.name(e.offset() + b * 512L, 512)) {
                        if (!owners.contains(n)) {
                            owners.add(n);
                        }
                    }
                    length += 512;
                }
            }
            dropped.add(new Minimized.Dropped(e.index(), e.offset(), length, List.copyOf(d.getValue()), owners));
        }
        return new Minimized(failing.state().id(), v, dropped, m.tests(), !m.exhausted(), reproducer);
    }

    /**
     * Names writes by the files of crash state {@code s} itself, as recovery left it: a lost write
     * belonged to what owns its blocks there (blocks reused later in the run have another owner in
     * the final state); null if the state does not mount.
     */
    private WriteNamer namerOf(PlannedState s, CrashPoint point) {
        if (stopping) {
            return null;
        }
        try {
            client.historyMaterialize(o.export, history.toString(), s.prefix(), s.applied(), s.torn());
            disk.dropCaches();
            if (disk.tryMount(mnt, o.fs, o.mountOptions, o.stateTimeout).ok()) {
                try {
                    return WriteNamer.of(FileMap.scan(mnt), mnt);
                } finally {
                    disk.unmount();
                }
            }
        } catch (IOException | RuntimeException e) {
            appendLine(
                    runDir.resolve("explore.log"), "file map of crash point " + point.number() + ": " + e.getMessage());
        }
        return null;
    }

    private void cleanUp() {
        List<String> problems = new ArrayList<>();
        boolean interrupted = Thread.interrupted(); // let the steps below run to the end
        try {
            if (disk != null) {
                try {
                    disk.unmount();
                } catch (IOException e) {
                    problems.add(e.getMessage());
                }
            }
            if (exportFound) { // else there is nothing of it to put back
                try {
                    HistoryInfo h = client.queryHistory(o.export);
                    if (h.recording()) {
                        client.historyStop(o.export);
                    }
                    client.historyRelease(o.export);
                    if (finalTaken) { // the export's data as the workload left it
                        client.snapshotRevert(o.export, finalSnapshot);
                        client.snapshotDelete(o.export, finalSnapshot);
                    }
                } catch (RuntimeException e) {
                    problems.add("putting the export back: " + e.getMessage());
                }
            }
            if (disk != null) {
                try {
                    disk.close();
                } catch (IOException e) {
                    problems.add(e.getMessage());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (!problems.isEmpty()) {
            appendLine(runDir.resolve("explore.log"), "clean-up: " + String.join("; ", problems));
            if (o.progress != null) {
                o.progress.println("faultdisk explore: clean-up: " + String.join("; ", problems));
            }
        }
    }

    private void writeReport(ExploreReport report) {
        try {
            Files.createDirectories(runDir);
            ReportWriter.write(report, o);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report in " + runDir, e);
        }
    }

    // ---- --materialize

    /**
     * Serves crash state {@code state} of the run in {@code runDir} as a new export {@code as}: the
     * run's export is put into the state, a snapshot of it is taken, and the new export is a clone
     * of that snapshot. {@code state} is a state's number, or {@code mN} for minimal reproducer N.
     * Returns the new export's name and snapshot.
     */
    public static String materialize(FaultdiskClient client, Path runDir, String state, String as)
            throws ExploreException {
        Path json = runDir.resolve("report.json");
        if (!Files.exists(json)) {
            throw new ExploreException("no report in " + runDir + " (expected " + json + ")");
        }
        StateSpec spec;
        try {
            spec = StateSpec.find(Files.readString(json), state);
        } catch (IOException | IllegalArgumentException e) {
            throw new ExploreException(json + ": " + e.getMessage());
        }
        String snapshot = "explore-" + spec.run() + "-" + state;
        try {
            client.historyMaterialize(spec.export(), spec.history(), spec.prefix(), spec.applied(), spec.torn());
            if (client.querySnapshots(spec.export()).stream()
                    .anyMatch(s -> s.name().equals(snapshot))) {
                client.snapshotDelete(spec.export(), snapshot);
            }
            client.snapshotCreate(spec.export(), snapshot);
            client.historyRelease(spec.export());
            client.exportAdd(as, spec.export(), snapshot);
        } catch (QmpException e) {
            throw new ExploreException("the server refused: " + e.getMessage());
        }
        return snapshot;
    }

    // ---- helpers

    private static List<String> shell(String command, String... args) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", command, "sh"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private Map<String, String> env(PlannedState s, Path acked) {
        Map<String, String> env = new HashMap<>(env(s));
        env.put("FAULTDISK_ACKED", acked.toString());
        return env;
    }

    private Map<String, String> env(PlannedState s) {
        Map<String, String> env = new HashMap<>();
        env.put("FAULTDISK_MOUNT", mnt.toString());
        env.put("FAULTDISK_RUN", runDir.toString());
        env.put("FAULTDISK_DEVICE", disk.device());
        if (s != null) {
            env.put("FAULTDISK_STATE", Integer.toString(s.id()));
        }
        return env;
    }

    private static String failed(Proc.Result r, Duration timeout) {
        return (r.timedOut() ? "did not finish within " + timeout.toSeconds() + " s" : "failed (exit " + r.exit() + ")")
                + (r.message().isEmpty() ? "" : ": " + r.message());
    }

    /**
     * A hint when a command's shell did not find something: commands run in the mount point (so
     * that a relative path in them names a file on the disk under test), so a script given by a
     * path relative to where explore was started is not found there.
     */
    private String missingHint(Proc.Result r) {
        String m = r.message();
        boolean missing = r.exit() == 127 || m.contains("No such file") || m.contains("not found");
        return missing
                ? " (setup, workload and check run in the mount point " + mnt + ": give their scripts by absolute path)"
                : "";
    }

    private void log(String name, String text) {
        try {
            Files.writeString(runDir.resolve(name), text);
        } catch (IOException e) {
            // the report says what matters
        }
    }

    private static void appendLine(Path file, String line) {
        try {
            Files.writeString(file, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // a log line lost is not worth stopping for
        }
    }

    private static String tail(String s) {
        return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
    }

    private static long millis(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
