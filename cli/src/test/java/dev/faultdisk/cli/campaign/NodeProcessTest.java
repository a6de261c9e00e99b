package dev.faultdisk.cli.campaign;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a node ends: a hang is killed after the stop timeout, an early exit is a crash, SIGTERM a stop. */
class NodeProcessTest {
    @Test
    void aNodeThatIgnoresSigtermIsKilledAfterTheTimeoutAndCountsAsHung(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("n.log");
        NodeProcess p = NodeProcess.start("sh -c 'trap \"\" TERM; echo up; while :; do sleep 0.05; done'", log);
        await("the node is up")
                .atMost(Duration.ofSeconds(10))
                .until(() -> Files.readString(log).contains("up"));
        long pid = p.pid();
        NodeProcess.End end = p.stop("", Duration.ofMillis(500), log);
        assertTrue(end.hung(), end.toString());
        assertFalse(end.crashed(), end.toString());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "killed");
    }

    @Test
    void aNodeThatExitsBeforeTheStopCrashed(@TempDir Path dir) throws Exception {
        NodeProcess p = NodeProcess.start("sh -c 'exit 3'", dir.resolve("n.log"));
        await("the node exits").atMost(Duration.ofSeconds(10)).until(() -> !p.alive());
        NodeProcess.End end = p.stop("", Duration.ofSeconds(5), dir.resolve("n.log"));
        assertTrue(end.crashed());
        assertEquals(3, end.exit());
        assertFalse(end.hung());
    }

    @Test
    void aNodeThatStopsOnSigtermIsNeitherCrashedNorHung(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("n.log");
        NodeProcess p = NodeProcess.start("sleep 60", log);
        NodeProcess.End end = p.stop("", Duration.ofSeconds(5), log);
        assertFalse(end.crashed());
        assertFalse(end.hung());
    }

    @Test
    void aHangingCommandIsKilledAtItsTimeout(@TempDir Path dir) throws Exception {
        Shell.Result r = Shell.run("echo started; sleep 60", Duration.ofMillis(300), dir.resolve("c.log"));
        assertTrue(r.timedOut());
        assertTrue(r.output().startsWith("started"), r.output());
    }
}
