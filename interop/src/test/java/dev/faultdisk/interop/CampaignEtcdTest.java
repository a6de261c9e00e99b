package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cli.campaign.CampaignParser;
import dev.faultdisk.cli.campaign.CampaignRunner;
import dev.faultdisk.cli.campaign.CampaignSpec;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The campaign on a real three-node etcd (Debian's etcd-server and etcd-client), ext4 on three
 * exports split across two faultdisk servers on this host: setup, trace run, runs; Ctrl-C in the
 * middle leaves no process, mount, loop device or export behind and keeps the finished run; the
 * campaign resumes from its plan without tracing again; a rerun repeats a run exactly. A small,
 * bounded campaign (bench/campaign-etcd.sh runs the whole table).
 */
class CampaignEtcdTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @Test
    void etcdCampaignOnTwoServersSurvivesCtrlCResumesAndReruns(@TempDir Path dir) throws Exception {
        FuseLoopDisk.requireAll();
        Tools.require("etcd", "etcdctl", "blockdev", "mountpoint", "setsid", "ip");
        Path scripts = Files.createDirectories(dir.resolve("etcd"));
        try (Stream<Path> s = Files.list(Path.of("..", "docs", "campaigns", "etcd"))) {
            for (Path p : s.toList()) {
                Files.copy(p, scripts.resolve(p.getFileName()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        try (FaultdiskServer a = server();
                FaultdiskServer b = server()) {
            Path file = dir.resolve("etcd-two-servers.json");
            Path work = dir.resolve("work");
            Files.writeString(file, campaign(a, b, work));

            // 1. As a user runs it; Ctrl-C once the first run is finished.
            Path out = dir.resolve("cli.out");
            Process cli = new ProcessBuilder(FaultdiskCli.interruptible("campaign", file.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            try {
                await("the first run's result")
                        .atMost(TIMEOUT)
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> {
                            assertTrue(
                                    cli.isAlive(),
                                    () -> "the campaign ended early (exit " + cli.exitValue() + "):\n" + read(out)
                                            + "\n" + Files.exists(file));
                            return finished(work).size() >= 1;
                        });
                Command.run(Duration.ofSeconds(5), "kill", "-INT", Long.toString(cli.pid()));
                assertTrue(cli.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the campaign ends on SIGINT");
            } finally {
                cli.destroyForcibly();
            }
            assertNothingLeft(work, a, b, read(out));
            List<Path> kept = finished(work);
            assertFalse(kept.isEmpty(), "the finished run is kept");
            Map<String, Object> trace = Json.parseObject(Files.readString(work.resolve("trace.json")));
            assertTraced(trace);

            // 2. Resume, two runs at once: the plan is reused (no second trace run), the finished run
            // is not run again; the second slot runs on clones in a network namespace of its own,
            // with the same ports.
            CampaignSpec spec = CampaignParser.parse(file, null);
            ByteArrayOutputStream progress = new ByteArrayOutputStream();
            Map<String, Object> report;
            try (CampaignRunner runner =
                    new CampaignRunner(spec, new PrintStream(progress, true, StandardCharsets.UTF_8))) {
                runner.run(new CampaignRunner.Options(null, 2, false, 2));
            }
            String said = progress.toString(StandardCharsets.UTF_8);
            assertTrue(said.contains("resuming with the plan"), said);
            assertFalse(said.contains("trace run"), said);
            report = Json.parseObject(Files.readString(work.resolve("report.json")));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> runs = (List<Map<String, Object>>) report.get("runs");
            assertEquals(kept.size() + 2, runs.size(), said);
            assertTrue(said.contains("2 runs at once"), said);
            for (Map<String, Object> r : runs) {
                assertNotEquals("campaign-error", r.get("outcome"), r.toString());
                assertTrue(((String) r.get("rerun")).contains("--rerun " + r.get("id")), r.toString());
                // a lost write is looked for after a restart of every member
                boolean restarted = r.get("fault").equals("lost-write");
                assertEquals(restarted, r.get("restarted"), r.toString());
                for (String n : List.of("n1", "n2", "n3")) {
                    String log = Files.readString(Path.of((String) r.get("dir")).resolve(n + ".log"));
                    assertEquals(
                            restarted ? 2 : 1,
                            log.split("etcdmain: etcd Version", -1).length - 1,
                            n + " started " + (restarted ? "twice" : "once") + " in " + r.get("id"));
                }
            }
            Map<String, Object> inSlot1 = runs.stream()
                    .filter(r -> ((Number) r.get("slot")).intValue() == 1)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("a run in slot 1: " + said));
            String html = Files.readString(work.resolve("report.html"));
            assertTrue(html.contains("<td>data/member/snap/db</td>"), "the table has the backend database's row");
            assertTrue(html.contains("journal.json"), "cells link the journals");
            assertNothingLeft(work, a, b, said);

            // 3. Rerun exactly the run of the second slot, in the first: the same outcome again.
            Map<String, Object> first = inSlot1;
            try (CampaignRunner runner =
                    new CampaignRunner(spec, new PrintStream(progress, true, StandardCharsets.UTF_8))) {
                runner.run(new CampaignRunner.Options((String) first.get("id"), 0, false));
            }
            Path rerunDir = Path.of((String) first.get("dir")).resolve("rerun-1");
            Map<String, Object> again = Json.parseObject(Files.readString(rerunDir.resolve("result.json")));
            assertEquals(first.get("outcome"), again.get("outcome"), "the rerun of " + first.get("id"));
            assertNothingLeft(work, a, b, progress.toString(StandardCharsets.UTF_8));
        }
    }

    /** Every node wrote its write-ahead log and backend database; exactly one was the leader. */
    @SuppressWarnings("unchecked")
    private static void assertTraced(Map<String, Object> trace) {
        Map<String, Object> nodes = (Map<String, Object>) trace.get("nodes");
        assertEquals(3, nodes.size());
        int leaders = 0;
        for (Map.Entry<String, Object> n : nodes.entrySet()) {
            Map<String, Object> node = (Map<String, Object>) n.getValue();
            leaders += "leader".equals(node.get("role")) ? 1 : 0;
            List<Map<String, Object>> touched = (List<Map<String, Object>>) node.get("touched");
            for (String label : List.of("data/member/wal/*-*.wal", "data/member/snap/db", "ext4 journal")) {
                assertTrue(
                        touched.stream()
                                .anyMatch(t ->
                                        t.get("label").equals(label) && ((Number) t.get("writes")).longValue() > 0),
                        n.getKey() + " wrote " + label + ": " + touched);
            }
        }
        assertEquals(1, leaders, "one leader: " + nodes);
        for (Map.Entry<String, Object> n : nodes.entrySet()) {
            List<Map<String, Object>> touched =
                    (List<Map<String, Object>>) ((Map<String, Object>) n.getValue()).get("touched");
            assertTrue(
                    touched.stream()
                            .anyMatch(t -> t.get("label").equals("data/member/snap/db")
                                    && ((Number) t.get("reads")).longValue() > 0),
                    n.getKey() + " read its backend database (reads are in the recorder's history): " + touched);
        }
    }

    /** No etcd, nbdfuse, mount or loop device of the campaign, and no export on either server. */
    private static void assertNothingLeft(Path work, FaultdiskServer a, FaultdiskServer b, String output)
            throws Exception {
        String w = work.toString();
        List<String> procs = new ArrayList<>();
        ProcessHandle.allProcesses()
                .forEach(p -> p.info().commandLine().filter(c -> c.contains(w)).ifPresent(procs::add));
        assertEquals(List.of(), procs, "no process of the campaign is left\n" + output);
        String mounts = Files.readString(Path.of("/proc/self/mounts"));
        assertFalse(mounts.contains(w), "no mount under the campaign's directory:\n" + mounts);
        String loops = Command.run(Duration.ofSeconds(10), "losetup", "-a").stdout();
        assertFalse(loops.contains(w), "no loop device on the campaign's files:\n" + loops);
        assertEquals(List.of("spare"), names(a), "the exports the campaign added are gone");
        assertEquals(List.of("spare"), names(b), "the exports the campaign added are gone");
        String netns =
                Command.run(Duration.ofSeconds(10), "ip", "netns", "list").stdout();
        assertFalse(netns.contains("etcd-ci"), "no network namespace of the campaign is left:\n" + netns);
    }

    private static List<String> names(FaultdiskServer s) {
        return s.exports().all().stream().map(e -> e.name()).toList();
    }

    private static List<Path> finished(Path work) throws Exception {
        Path runs = work.resolve("runs");
        if (!Files.isDirectory(runs)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(runs)) {
            return s.filter(r -> Files.exists(r.resolve("result.json"))).toList();
        }
    }

    private static FaultdiskServer server() throws Exception {
        return FaultdiskServer.builder()
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0))
                .export("spare=memory:1M")
                .start();
    }

    private static String address(java.net.SocketAddress s) {
        InetSocketAddress i = (InetSocketAddress) s;
        return "127.0.0.1:" + i.getPort();
    }

    /** Three nodes, n1 and n2 on server a, n3 on server b; a small campaign: two targets, two fault kinds. */
    private static String campaign(FaultdiskServer a, FaultdiskServer b, Path work) throws Exception {
        StringBuilder nodes = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            FaultdiskServer s = i < 3 ? a : b;
            int client = freePort();
            int peer = freePort();
            nodes.append(i > 1 ? ",\n" : "")
                    .append(String.format(
                            "    {\"name\": \"n%d\", \"qmp\": \"%s\", \"nbd\": \"nbd://%s/n%d\", \"export-spec\": \"memory:256M\",%n"
                                    + "     \"vars\": {\"client\": \"http://127.0.0.1:%d\", \"peer\": \"http://127.0.0.1:%d\","
                                    + " \"member\": \"n%d=http://127.0.0.1:%d\"}}",
                            i,
                            address(s.qmpAddresses().getFirst()),
                            address(s.nbdAddress()),
                            i,
                            client,
                            peer,
                            i,
                            peer));
        }
        String demo = Files.readString(Path.of("..", "docs", "campaigns", "etcd-3.json"));
        Map<String, Object> d = Json.parseObject(demo);
        @SuppressWarnings("unchecked")
        Map<String, Object> commands = (Map<String, Object>) d.get("commands");
        return "{\n  \"name\": \"etcd-ci\",\n  \"workdir\": " + Json.quote(work.toString()) + ",\n  \"nodes\": [\n"
                + nodes
                + "\n  ],\n  \"commands\": " + Json.write(commands)
                + ",\n  \"setup\": \"{campaign}/etcd/workload.sh {all:client} base 10\""
                + ",\n  \"workload\": \"{campaign}/etcd/workload.sh {all:client} run 10\",\n  \"check\": "
                + Json.quote((String) d.get("check"))
                + ",\n  \"faults\": [\"lost-write\", \"read-error\"],\n"
                + "  \"targets\": {\"files\": [\"data/member/snap/db\"], \"structures\": false},\n"
                + "  \"timeouts\": {\"start-s\": 15, \"workload-s\": 60, \"check-s\": 30, \"stop-s\": 5}\n}\n";
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(" + e + ")";
        }
    }
}
