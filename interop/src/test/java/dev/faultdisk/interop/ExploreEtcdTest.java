package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.StateResult;
import dev.faultdisk.explore.Verdict;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * faultdisk explore on etcd (one member, its data on ext4): eight puts, each acknowledged once
 * etcdctl returned. No crash state loses an acknowledged key; the only states in which etcd does
 * not come back are those of its first start, before the first acknowledgement (the member's WAL
 * is there but not the entries that bootstrap it). The budget is small for CI.
 */
@Faultdisk(exports = "d=memory:256M")
class ExploreEtcdTest {
    private static final int KEYS = 8;

    @Test
    void noAcknowledgedPutIsLostAndOnlyTheFirstStartMayNotComeBack(
            FaultdiskClient fd, @ExportUri("d") String uri, @TempDir Path dir) throws Exception {
        ExploreRuns.requireAll("etcd", "etcdctl");
        ExploreReport r = ExploreRuns.explore(
                fd,
                ExploreRuns.shell("etcd", "KEYS=" + KEYS + " ", false, uri, dir)
                        .stateTimeout(Duration.ofSeconds(20))
                        .maxStates(10));
        assertEquals(KEYS, r.acks().size());
        assertEquals(10, r.results().size(), "states checked");
        assertEquals(List.of(), r.withVerdict(Verdict.CHECK_TIMEOUT), "the check bounds its own wait");
        for (StateResult s : r.violations()) {
            assertTrue(s.checkExit() != 2, "an acknowledged put was lost: " + s);
            assertEquals(0, s.acked(), "etcd did not come back after an acknowledgement: " + s);
        }
        assertTrue(
                r.results().stream().anyMatch(s -> s.verdict() == Verdict.OK && s.acked() == KEYS),
                "a state after the last put keeps all: " + r.results());
    }
}
