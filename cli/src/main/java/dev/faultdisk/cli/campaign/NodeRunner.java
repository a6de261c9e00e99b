package dev.faultdisk.cli.campaign;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Runs a slot's nodes with the campaign file's commands: start, probe until up, ask each its role,
 * stop; each command expanded for its node and run in its slot. Knows every node process it
 * started, so that {@link #killAll} leaves none behind when the campaign is closed.
 */
final class NodeRunner {
    private static final Duration PROBE_POLL = Duration.ofMillis(100);

    private final CampaignSpec spec;
    private final ConcurrentLinkedDeque<NodeProcess> running = new ConcurrentLinkedDeque<>();
    private boolean closed; // guarded by this

    NodeRunner(CampaignSpec spec) {
        this.spec = spec;
    }

    /** A command of the campaign file for {@code node} in {@code slot}, as it runs there. */
    static String expand(Slot slot, String template, CampaignSpec.Node node, Path runDir, Path acked) {
        return slot.inSlot(expandOnly(slot, template, node, runDir, acked), false);
    }

    private static String expandOnly(Slot slot, String template, CampaignSpec.Node node, Path runDir, Path acked) {
        return Placeholders.expand(
                template,
                Placeholders.of(
                        slot.spec,
                        slot.nodes,
                        slot.index,
                        node,
                        slot.disk(node).mount(),
                        Map.of("run", runDir.toString(), "acked", acked.toString())));
    }

    List<NodeProcess> startAll(Slot slot, Path dir) throws IOException {
        return startAll(slot, dir, Set.of());
    }

    /** Starts every node but those in {@code skip} (null in their place in the list). */
    synchronized List<NodeProcess> startAll(Slot slot, Path dir, Set<String> skip) throws IOException {
        if (closed) {
            throw new IOException("interrupted");
        }
        List<NodeProcess> procs = new ArrayList<>();
        for (CampaignSpec.Node n : slot.nodes) {
            if (skip.contains(n.name())) {
                procs.add(null);
                continue;
            }
            NodeProcess p = NodeProcess.start(
                    slot.inSlot(expandOnly(slot, spec.start(), n, dir, dir.resolve("acked.txt")), true), log(dir, n));
            running.add(p);
            procs.add(p);
        }
        return procs;
    }

    /** The last lines of the named nodes' logs and probes, for a failure message. */
    static String tails(Path dir, List<String> nodes) {
        StringBuilder b = new StringBuilder();
        for (String n : nodes) {
            for (String suffix : List.of(".log", ".probe.log")) {
                Path f = dir.resolve(n + suffix);
                try {
                    List<String> lines = Files.exists(f) ? Files.readAllLines(f) : List.of();
                    b.append("\n--- ").append(f.getFileName()).append(" (last lines)");
                    for (String l : lines.subList(Math.max(0, lines.size() - 4), lines.size())) {
                        b.append("\n  ").append(l.length() > 300 ? l.substring(0, 300) + "..." : l);
                    }
                } catch (IOException e) {
                    b.append("\n  (").append(e.getMessage()).append(")");
                }
            }
        }
        return b.toString();
    }

    private static Path log(Path dir, CampaignSpec.Node n) {
        return dir.resolve(n.name() + ".log");
    }

    /** Waits until every node's probe passes; returns the nodes that did not come up in time. */
    List<String> awaitProbes(Slot slot, Path dir, List<NodeProcess> procs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + spec.timeouts().start().toNanos();
        List<String> notUp = new ArrayList<>();
        for (int i = 0; i < slot.nodes.size(); i++) {
            CampaignSpec.Node n = slot.nodes.get(i);
            if (procs.get(i) == null) {
                continue; // not started: the caller says why
            }
            boolean up = false;
            while (!up && System.nanoTime() < deadline && procs.get(i).alive()) {
                Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
                up = Shell.run(
                                expand(slot, spec.probe(), n, dir, dir.resolve("acked.txt")),
                                left.compareTo(Duration.ofSeconds(5)) < 0 ? left : Duration.ofSeconds(5),
                                dir.resolve(n.name() + ".probe.log"))
                        .ok();
                if (!up) {
                    Thread.sleep(PROBE_POLL.toMillis());
                }
            }
            if (!up) {
                notUp.add(n.name());
            }
        }
        return notUp;
    }

    /** Stops the nodes started as {@code procs}; how each ended, by name. */
    Map<String, NodeProcess.End> stopAll(Slot slot, Path dir, List<NodeProcess> procs)
            throws IOException, InterruptedException {
        Map<String, NodeProcess.End> ends = new LinkedHashMap<>();
        for (int i = 0; i < procs.size(); i++) {
            CampaignSpec.Node n = slot.nodes.get(i);
            NodeProcess p = procs.get(i);
            if (p == null) {
                continue;
            }
            ends.put(
                    n.name(),
                    p.stop(
                            spec.stop().isEmpty() ? "" : expand(slot, spec.stop(), n, dir, dir.resolve("acked.txt")),
                            spec.timeouts().stop(),
                            log(dir, n)));
            running.remove(p);
        }
        return ends;
    }

    /** Each node's role by the role command's last word ("unknown" if it failed; "" without one). */
    Map<String, String> roles(Slot slot, Path dir) throws IOException, InterruptedException {
        Map<String, String> roles = new LinkedHashMap<>();
        for (CampaignSpec.Node n : slot.nodes) {
            String role = "";
            if (!spec.role().isEmpty()) {
                Shell.Result r = Shell.run(
                        expand(slot, spec.role(), n, dir, dir.resolve("acked.txt")),
                        Duration.ofSeconds(10),
                        dir.resolve(n.name() + ".role.log"));
                role = r.ok() && !r.output().isBlank() ? r.lastWord() : "unknown";
            }
            roles.put(n.name(), role);
        }
        return roles;
    }

    /** Kills every node process still running, and starts none from now on. */
    synchronized void killAll() {
        closed = true;
        for (NodeProcess p : running) {
            p.kill();
        }
        running.clear();
    }
}
