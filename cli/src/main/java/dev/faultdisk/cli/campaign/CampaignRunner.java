package dev.faultdisk.cli.campaign;

import dev.faultdisk.cli.HostTools;
import dev.faultdisk.cli.HostTools.ToolException;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.wire.FileTrees;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a campaign (docs/CAMPAIGNS.md): setup once and a snapshot of every disk; a trace run
 * without faults that records which files and structures each node reads and writes (and is the
 * baseline: its check must pass); then one run per (node, target, fault kind), each from the
 * reverted disks. Every run's result is written as soon as it is known, so an interrupted
 * campaign resumes where it stopped; {@link #close} takes down every process, mount, loop device,
 * nbdfuse and export the campaign made, and is what Ctrl-C runs.
 */
public final class CampaignRunner implements AutoCloseable {
    /** At most this many runs at once. */
    public static final int MAX_SLOTS = 16;
    /** What one node of a slot is assumed to need, for {@link #autoParallel}. */
    private static final long NODE_MEMORY = 256L << 20;

    private final CampaignSpec spec;
    private final PrintStream progress;
    private final List<Slot> slots = new CopyOnWriteArrayList<>();
    private final NodeRunner nodes;
    private final List<CampaignSpec.Node> createdExports = new ArrayList<>();
    private final String baseSnapshot;
    private volatile boolean closed;

    /**
     * What to run.
     *
     * @param parallel how many runs at once (run slots; 1: one after the other)
     */
    public record Options(String rerun, int maxRuns, boolean fresh, int parallel) {
        public Options(String rerun, int maxRuns, boolean fresh) {
            this(rerun, maxRuns, fresh, 1);
        }
    }

    public CampaignRunner(CampaignSpec spec, PrintStream progress) {
        this.spec = spec;
        this.nodes = new NodeRunner(spec);
        this.progress = progress;
        this.baseSnapshot = "campaign-" + spec.name() + "-base";
    }

    /**
     * Runs at once for {@code --parallel auto}: twice the cores (a run mostly waits: for probes,
     * timeouts, the disk), bounded by the memory available at 256 MiB per node and by
     * {@link #MAX_SLOTS}.
     */
    public static int autoParallel(CampaignSpec spec) {
        int byCores = 2 * Runtime.getRuntime().availableProcessors();
        long available = Long.MAX_VALUE;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemAvailable:")) {
                    available = Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc/meminfo: the cores decide
        }
        long byMemory = available / (NODE_MEMORY * spec.nodes().size());
        return (int) Math.max(1, Math.min(MAX_SLOTS, Math.min(byCores, byMemory)));
    }

    private Path workdir() {
        return spec.workdir();
    }

    /** Runs the campaign and writes the report; returns the report's path. */
    public Path run(Options options) throws Exception {
        HostTools.requireRoot("faultdisk campaign");
        HostTools.require("nbdfuse", "fusermount3", "losetup", "mount", "umount", "blockdev", "mountpoint");
        Files.createDirectories(workdir().resolve("runs"));
        Files.writeString(workdir().resolve("campaign.json"), Files.readString(spec.file()));
        Slot main = Slot.of(spec, 0);
        slots.add(main);
        main.connect();
        setup(main);
        List<Target> targets = plan(main, options.fresh());
        List<Run> runs = runsOf(targets);
        if (options.rerun() != null) {
            Run run = runs.stream()
                    .filter(r -> r.id().equals(options.rerun()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no run '" + options.rerun()
                            + "' in this campaign (see " + workdir().resolve("report.json") + ")"));
            RunResult r = execute(main, run, true);
            progress.println(run.id() + ": " + r.outcome().wireName() + " (" + r.detail() + "), logs in " + r.dir());
            return Report.write(spec, targets, results(runs), workdir());
        }
        Progress bar = new Progress(progress, runs.size(), Instant.now());
        List<Run> todo = new ArrayList<>();
        for (Run run : runs) {
            RunResult previous = RunResult.load(resultFile(run.id()));
            if (previous != null && !options.fresh()) {
                bar.skipped(previous.outcome());
            } else if (options.maxRuns() <= 0 || todo.size() < options.maxRuns()) {
                todo.add(run);
            }
        }
        int parallel = Math.max(1, Math.min(options.parallel(), todo.size()));
        if (parallel > 1) {
            HostTools.require("ip", "nsenter");
        }
        for (int i = 1; i < parallel; i++) {
            addSlot(i);
        }
        if (parallel > 1) {
            progress.println(
                    "campaign " + spec.name() + ": " + parallel + " runs at once (slots 0-" + (parallel - 1) + ")");
        }
        runAll(todo, bar);
        bar.end();
        return Report.write(spec, targets, results(runs), workdir());
    }

    /**
     * Runs {@code todo}, each slot taking the next run as it finishes one: one thread per slot.
     * The first failure of the campaign itself stops every slot after its current run.
     */
    private void runAll(List<Run> todo, Progress bar) throws Exception {
        ConcurrentLinkedQueue<Run> queue = new ConcurrentLinkedQueue<>(todo);
        AtomicReference<Exception> failed = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (Slot slot : slots) {
            workers.add(Thread.ofPlatform().name("campaign-" + slot).start(() -> {
                Run run;
                while (!closed && failed.get() == null && (run = queue.poll()) != null) {
                    try {
                        RunResult r = execute(slot, run, false);
                        bar.finished(r.outcome());
                    } catch (Exception e) {
                        failed.compareAndSet(null, e);
                    }
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        if (failed.get() != null) {
            throw failed.get();
        }
    }

    /**
     * Slot {@code index}: a clone of every node's export from the base snapshot, on its server,
     * with a base snapshot of its own to revert to, attached on this host.
     */
    private void addSlot(int index) throws Exception {
        Slot slot = Slot.of(spec, index);
        slots.add(slot); // before anything is made: close() takes down what follows
        slot.connect();
        slot.createNetwork();
        for (CampaignSpec.Node n : slot.nodes) {
            CampaignSpec.Node origin = spec.nodes().get(n.number() - 1);
            slot.client(n).exportAdd(n.export(), origin.export(), baseSnapshot);
            slot.clones.add(n);
            slot.client(n).snapshotCreate(n.export(), baseSnapshot);
            NodeDisk d = new NodeDisk(spec, n, slot.uri(n), slot.tag(n));
            slot.disks.put(n.name(), d);
            d.attach();
        }
    }

    /** One run of the plan. */
    record Run(String id, Target target, FaultKind fault) {}

    private List<Run> runsOf(List<Target> targets) {
        List<Run> runs = new ArrayList<>();
        for (Target t : targets) {
            for (FaultKind f : spec.faults()) {
                if (t.worthTrying(f)) {
                    runs.add(new Run(t.runId(f), t, f));
                }
            }
        }
        return runs;
    }

    private Map<String, RunResult> results(List<Run> runs) throws IOException {
        Map<String, RunResult> out = new LinkedHashMap<>();
        for (Run r : runs) {
            RunResult res = RunResult.load(resultFile(r.id()));
            if (res != null) {
                out.put(r.id(), res);
            }
        }
        return out;
    }

    private Path resultFile(String id) {
        return workdir().resolve("runs").resolve(id).resolve("result.json");
    }

    // ---- servers, exports, disks ----

    /** Makes the file systems, starts the cluster, loads the data, stops it and snapshots every disk. */
    private void setup(Slot slot) throws Exception {
        for (CampaignSpec.Node n : slot.nodes) {
            FaultdiskClient c = slot.client(n);
            // clones left by a campaign killed hard: the base snapshot cannot go while they exist
            for (var b : c.queryBlock()) {
                if (Slot.isCloneOf(b.device(), n.export())) {
                    c.exportRemove(b.device());
                }
            }
            boolean exists = c.queryBlock().stream().anyMatch(b -> b.device().equals(n.export()));
            if (!exists) {
                c.exportAdd(n.export(), n.exportSpec());
                createdExports.add(n);
            } else {
                c.reset(n.export());
                if (c.querySnapshots(n.export()).stream().anyMatch(s -> s.name().equals(baseSnapshot))) {
                    c.snapshotDelete(n.export(), baseSnapshot);
                }
            }
            NodeDisk d = new NodeDisk(spec, n, slot.uri(n), slot.tag(n));
            slot.disks.put(n.name(), d);
            d.attach();
            d.mkfs();
        }
        progress.println("campaign " + spec.name() + ": setup (mkfs, start, load, stop, snapshot) in " + workdir());
        Path dir = Files.createDirectories(workdir().resolve("setup"));
        mountAll(slot);
        try {
            List<NodeProcess> procs = nodes.startAll(slot, dir);
            List<String> notUp = nodes.awaitProbes(slot, dir, procs);
            if (!notUp.isEmpty()) {
                nodes.stopAll(slot, dir, procs);
                throw new CampaignFailure("setup: node(s) " + notUp + " did not start within "
                        + spec.timeouts().start().toSeconds() + " s; see the logs in " + dir
                        + NodeRunner.tails(dir, notUp));
            }
            if (!spec.setup().isEmpty()) {
                Path acked = dir.resolve("acked.txt");
                Shell.Result r = Shell.run(
                        NodeRunner.expand(slot, spec.setup(), slot.nodes.getFirst(), dir, acked),
                        spec.timeouts().setup(),
                        dir.resolve("setup.log"));
                if (!r.ok()) {
                    throw new CampaignFailure("setup: the setup command "
                            + (r.timedOut() ? "timed out" : "failed (exit " + r.exit() + ")") + "; see "
                            + dir.resolve("setup.log"));
                }
                Files.writeString(acked, r.output());
            }
            nodes.stopAll(slot, dir, procs);
        } finally {
            unmountAll(slot);
        }
        for (CampaignSpec.Node n : slot.nodes) {
            slot.client(n).snapshotCreate(n.export(), baseSnapshot);
        }
    }

    private void mountAll(Slot slot) throws ToolException {
        for (NodeDisk d : slot.disks.values()) {
            synchronized (this) {
                if (closed) {
                    throw new ToolException("interrupted");
                }
                d.mountFs();
            }
        }
    }

    private void unmountAll(Slot slot) throws ToolException {
        ToolException first = null;
        for (NodeDisk d : slot.disks.values()) {
            try {
                d.unmountFs();
            } catch (ToolException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void revertAll(Slot slot) {
        for (CampaignSpec.Node n : slot.nodes) {
            slot.client(n).snapshotRevert(n.export(), baseSnapshot);
        }
    }

    // ---- trace run and plan ----

    /** The targets: from plan.json when it is there (a resumed campaign), else from a fresh trace run. */
    @SuppressWarnings("unchecked")
    private List<Target> plan(Slot slot, boolean fresh) throws Exception {
        Path planFile = workdir().resolve("plan.json");
        if (!fresh && Files.exists(planFile)) {
            Map<String, Object> plan = Json.parseObject(Files.readString(planFile));
            List<Target> out = new ArrayList<>();
            for (Object t : (List<Object>) plan.get("targets")) {
                out.add(Target.fromJson((Map<String, Object>) t));
            }
            progress.println("campaign " + spec.name() + ": resuming with the plan in " + planFile);
            return out;
        }
        progress.println("campaign " + spec.name() + ": trace run (no faults) to find what each node touches");
        Path dir = Files.createDirectories(workdir().resolve("trace"));
        revertAll(slot);
        mountAll(slot);
        Map<String, Map<String, Access>> accesses = new TreeMap<>();
        Map<String, String> roles;
        try {
            Map<String, FileMap> before = scanAll(slot);
            dropCaches(slot);
            Map<String, Tracer> tracers = new LinkedHashMap<>();
            for (CampaignSpec.Node n : slot.nodes) {
                Tracer t = new RecorderTracer(
                        slot.client(n),
                        n.export(),
                        dir.resolve(n.name() + ".history"),
                        "campaign-" + spec.name() + "-trace");
                t.start();
                tracers.put(n.name(), t);
            }
            List<NodeProcess> procs = nodes.startAll(slot, dir);
            List<String> notUp = nodes.awaitProbes(slot, dir, procs);
            if (!notUp.isEmpty()) {
                nodes.stopAll(slot, dir, procs);
                throw new CampaignFailure(
                        "trace run: node(s) " + notUp + " did not start without any fault; see " + dir);
            }
            roles = nodes.roles(slot, dir);
            Path acked = dir.resolve("acked.txt");
            Shell.Result w = workload(slot, dir, acked);
            Shell.Result check = Shell.run(
                    NodeRunner.expand(slot, spec.check(), slot.nodes.getFirst(), dir, acked),
                    spec.timeouts().check(),
                    dir.resolve("check.log"));
            nodes.stopAll(slot, dir, procs);
            Map<String, List<Tracer.Request>> traced = new LinkedHashMap<>();
            for (CampaignSpec.Node n : slot.nodes) {
                traced.put(n.name(), tracers.get(n.name()).stop());
            }
            // mapped only now: the map syncs every file, and those writes are not the system's
            Map<String, FileMap> after = scanAll(slot);
            for (CampaignSpec.Node n : slot.nodes) {
                accesses.put(
                        n.name(),
                        TargetPlanner.accesses(
                                traced.get(n.name()),
                                after.get(n.name()),
                                before.get(n.name()),
                                slot.disk(n).mount()));
            }
            Outcome baseline = Outcome.byName(check.ok() || !check.output().isBlank() ? check.lastWord() : "")
                    .orElse(Outcome.CAMPAIGN_ERROR);
            if (baseline != Outcome.CORRECT || w.timedOut()) {
                throw new CampaignFailure("trace run: without any fault the check says '"
                        + (check.output().isBlank() ? "(nothing)" : check.lastWord()) + "'; fix the workload or check ("
                        + dir.resolve("check.log") + ")");
            }
        } finally {
            unmountAll(slot);
        }
        List<Target> targets =
                new TargetPlanner(spec.files(), spec.structures(), spec.pieces()).targets(accesses, roles);
        Map<String, Object> trace = new LinkedHashMap<>();
        Map<String, Object> perNode = new LinkedHashMap<>();
        accesses.forEach((node, byLabel) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", roles.get(node));
            m.put("touched", byLabel.values().stream().map(Access::toJson).toList());
            perNode.put(node, m);
        });
        trace.put("nodes", perNode);
        writeJson(workdir().resolve("trace.json"), trace);
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("targets", targets.stream().map(Target::toJson).toList());
        writeJson(planFile, plan);
        progress.println("campaign " + spec.name() + ": " + targets.size() + " targets x "
                + spec.faults().size() + " fault kinds (trace in " + workdir().resolve("trace.json") + ")");
        return targets;
    }

    private Shell.Result workload(Slot slot, Path dir, Path acked) throws IOException, InterruptedException {
        Shell.Result w = Shell.run(
                NodeRunner.expand(slot, spec.workload(), slot.nodes.getFirst(), dir, acked),
                spec.timeouts().workload(),
                dir.resolve("workload.log"));
        Path setupAcked = workdir().resolve("setup").resolve("acked.txt");
        String before = Files.exists(setupAcked) ? Files.readString(setupAcked) : "";
        Files.writeString(acked, before + w.output());
        return w;
    }

    private static void dropCaches(Slot slot) throws ToolException, IOException {
        for (NodeDisk d : slot.disks.values()) {
            d.dropCaches();
        }
    }

    private static Map<String, FileMap> scanAll(Slot slot) throws IOException {
        Map<String, FileMap> maps = new LinkedHashMap<>();
        for (CampaignSpec.Node n : slot.nodes) {
            maps.put(n.name(), FileMap.scan(slot.disk(n).mount()));
        }
        return maps;
    }

    // ---- one run ----

    private RunResult execute(Slot slot, Run run, boolean rerun) throws Exception {
        Path dir = workdir().resolve("runs").resolve(run.id());
        if (rerun && Files.exists(dir)) {
            int i = 1;
            while (Files.exists(dir.resolve("rerun-" + i))) {
                i++;
            }
            dir = dir.resolve("rerun-" + i);
        } else if (Files.exists(dir)) {
            // an attempt interrupted before it finished: its logs would be read as this run's
            FileTrees.delete(dir);
        }
        Files.createDirectories(dir);
        Instant started = Instant.now();
        CampaignSpec.Node node = slot.node(run.target().node());
        FaultdiskClient c = slot.client(node);
        Map<String, Long> journalStart = new LinkedHashMap<>();
        for (CampaignSpec.Node n : slot.nodes) {
            journalStart.put(
                    n.name(), slot.client(n).queryFaultJournal(n.export(), 0, 1).last());
        }
        revertAll(slot);
        String armed = "";
        List<NodeProcess> procs = List.of();
        Map<String, NodeProcess.End> ends = new LinkedHashMap<>();
        Map<String, String> roles = Map.of();
        Shell.Result check = null;
        Shell.Result workload = null;
        List<String> notUp = new ArrayList<>();
        String failure = null;
        boolean restart = spec.restart().restarts(run.fault());
        try {
            mountAll(slot);
            attachMaps(slot);
            armed = arm(slot, c, node, run);
            dropCaches(slot);
            procs = nodes.startAll(slot, dir);
            notUp.addAll(nodes.awaitProbes(slot, dir, procs));
            roles = nodes.roles(slot, dir);
            Path acked = dir.resolve("acked.txt");
            workload = workload(slot, dir, acked);
            if (restart) {
                // what the page cache held goes: the check reads what reached the disk
                Map<String, NodeProcess.End> first = nodes.stopAll(slot, dir, procs);
                procs = List.of();
                ends.putAll(first);
                detachMaps(slot);
                unmountAll(slot);
                // a file system that no longer mounts is the fault's outcome, not the campaign's
                Map<String, String> unmountable = remount(slot);
                unmountable.forEach(
                        (n, why) -> notUp.add(n + " (after the restart its file system does not mount: " + why + ")"));
                attachMaps(slot, unmountable.keySet());
                procs = nodes.startAll(slot, dir, unmountable.keySet());
                for (String n : nodes.awaitProbes(slot, dir, procs)) {
                    notUp.add(n + " (after the restart)");
                }
            }
            check = Shell.run(
                    NodeRunner.expand(slot, spec.check(), slot.nodes.getFirst(), dir, acked),
                    spec.timeouts().check(),
                    dir.resolve("check.log"));
        } catch (ToolException | RuntimeException e) {
            failure = e.getMessage();
        } finally {
            Map<String, NodeProcess.End> last = nodes.stopAll(slot, dir, procs);
            last.forEach((n, end) -> ends.merge(n, end, NodeProcess.End::then));
            for (CampaignSpec.Node n : slot.nodes) {
                slot.client(n).faultClear(n.export());
            }
            detachMaps(slot);
            unmountAll(slot);
        }
        long fired = 0;
        List<Object> journal = new ArrayList<>();
        for (CampaignSpec.Node n : slot.nodes) {
            long after = journalStart.get(n.name());
            while (true) {
                List<Map<String, Object>> page = slot.client(n)
                        .queryFaultJournal(n.export(), after, 1000)
                        .entries();
                if (page.isEmpty()) {
                    break;
                }
                for (Map<String, Object> e : page) {
                    after = ((Number) e.get("seq")).longValue();
                    journal.add(e);
                    if ("fault".equals(e.get("event"))) {
                        fired++;
                    }
                }
            }
        }
        writeJson(dir.resolve("journal.json"), journal);
        if (closed) {
            throw new CampaignFailure("interrupted: run " + run.id() + " was not finished and is not kept");
        }
        RunResult result = result(
                run,
                dir,
                started,
                armed,
                new Verdict.Evidence(failure, check, workload, ends, notUp, fired),
                roles,
                restart,
                slot.index);
        result.save(dir.resolve("result.json"));
        if (rerun) {
            Files.copy(
                    dir.resolve("result.json"), dir.resolve("rerun-result.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        return result;
    }

    private static void attachMaps(Slot slot) {
        attachMaps(slot, Set.of());
    }

    private static void attachMaps(Slot slot, Set<String> skip) {
        for (CampaignSpec.Node n : slot.nodes) {
            if (!skip.contains(n.name())) {
                slot.client(n).fileMapAttach(n.export(), slot.disk(n).mount().toString());
            }
        }
    }

    /** Mounts every disk of the slot; returns the nodes whose file system would not mount, and why. */
    private Map<String, String> remount(Slot slot) throws ToolException {
        Map<String, String> failed = new LinkedHashMap<>();
        for (CampaignSpec.Node n : slot.nodes) {
            synchronized (this) {
                if (closed) {
                    throw new ToolException("interrupted");
                }
                try {
                    slot.disk(n).mountFs();
                } catch (ToolException e) {
                    failed.put(
                            n.name(),
                            e.getMessage().lines().findFirst().orElse("").strip());
                }
            }
        }
        return failed;
    }

    private static void detachMaps(Slot slot) {
        for (CampaignSpec.Node n : slot.nodes) {
            slot.client(n).execute("file-map-detach", FaultdiskClient.args("device", n.export()));
        }
    }

    /** Adds the run's fault rules on the target node ({@link Aim}); returns what was armed, for the result. */
    private String arm(Slot slot, FaultdiskClient c, CampaignSpec.Node node, Run run) throws IOException {
        Target t = run.target();
        Path mount = t.path() == null ? null : slot.disk(node).mount();
        Aim aim = Aim.of(t, run.fault(), mount, spec.seed() ^ run.id().hashCode(), spec.slowMs());
        if (aim.rules().isEmpty()) {
            return "nothing: no file matches " + t.label() + " on the reverted disk";
        }
        c.faultAdd(node.export(), aim.rules());
        return run.fault().wireName() + " on " + node.name() + ": " + String.join(", ", aim.aimed());
    }

    private RunResult result(
            Run run,
            Path dir,
            Instant started,
            String armed,
            Verdict.Evidence evidence,
            Map<String, String> roles,
            boolean restarted,
            int slot) {
        Verdict v = Verdict.of(evidence, spec.timeouts());
        String rerun = "faultdisk campaign " + spec.file().toAbsolutePath() + " --workdir " + workdir() + " --rerun "
                + run.id();
        return new RunResult(
                run.id(),
                run.target(),
                run.fault(),
                v.outcome(),
                v.notes(),
                armed,
                evidence.fired(),
                roles,
                started,
                Duration.between(started, Instant.now()),
                dir,
                rerun,
                restarted,
                slot);
    }

    static void writeJson(Path file, Object value) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Json.writePretty(value) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A step of the campaign itself failed: reported apart from the outcomes of runs. */
    public static final class CampaignFailure extends Exception {
        private static final long serialVersionUID = 1L;

        CampaignFailure(String message) {
            super(message);
        }
    }

    /**
     * Takes down what the campaign made: node processes, mounts, loop devices, nbdfuse, and the
     * exports it added (with their snapshots). Finished runs stay on disk. Safe to call twice and
     * from a shutdown hook.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        nodes.killAll();
        for (Slot slot : slots) {
            for (NodeDisk d : slot.disks.values()) {
                try {
                    d.close();
                } catch (ToolException | RuntimeException e) {
                    progress.println("campaign: cleanup: " + e.getMessage());
                }
            }
        }
        // clones first: an origin with clones cannot be removed, nor its base snapshot deleted
        for (Slot slot : slots.reversed()) {
            for (CampaignSpec.Node n : slot.clones) {
                FaultdiskClient c = slot.client(n);
                try {
                    if (c != null && c.isOpen()) {
                        c.exportRemove(n.export());
                    }
                } catch (RuntimeException e) {
                    progress.println("campaign: cleanup of export " + n.export() + ": " + e.getMessage());
                }
            }
        }
        for (Slot slot : slots) {
            try {
                slot.deleteNetwork();
            } catch (ToolException | RuntimeException e) {
                progress.println("campaign: cleanup: " + e.getMessage());
            }
        }
        if (slots.isEmpty()) {
            return;
        }
        Slot main = slots.getFirst();
        for (CampaignSpec.Node n : main.nodes) {
            FaultdiskClient c = main.client(n);
            if (c == null || !c.isOpen()) {
                continue;
            }
            try {
                if (createdExports.contains(n)) {
                    c.exportRemove(n.export());
                } else {
                    c.faultClear(n.export());
                    if (c.querySnapshots(n.export()).stream()
                            .anyMatch(s -> s.name().equals(baseSnapshot))) {
                        c.snapshotDelete(n.export(), baseSnapshot);
                    }
                }
            } catch (RuntimeException e) {
                progress.println("campaign: cleanup of export " + n.export() + ": " + e.getMessage());
            }
        }
        for (Slot slot : slots) {
            for (FaultdiskClient c : slot.clients.values()) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    // the server went away: nothing left to undo there
                }
            }
        }
    }
}
