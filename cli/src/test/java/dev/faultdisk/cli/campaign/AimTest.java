package dev.faultdisk.cli.campaign;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.client.FaultRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a run's fault goes: the trace's file, the files its row's pattern matches now, or ranges. */
class AimTest {
    @TempDir
    Path mount;

    private static Target file(String label, String path, long fileOffset, long fileLength) {
        return new Target("n1", "", label, "file", path, List.of(), 1, 1, fileOffset, fileLength);
    }

    private void touch(String... paths) throws Exception {
        for (String p : paths) {
            Files.createDirectories(mount.resolve(p).getParent());
            Files.writeString(mount.resolve(p), "x");
        }
    }

    @Test
    void theTracesFileIsAimedAtWhenTheRevertedDiskHasIt() throws Exception {
        touch("member/wal/0.wal", "member/wal/1.wal");
        Aim aim = Aim.of(file("member/wal/*.wal", "member/wal/0.wal", 0, -1), FaultKind.READ_ERROR, mount, 7, 50);
        assertEquals(List.of("member/wal/0.wal"), aim.aimed());
        FaultRule rule = aim.rules().getFirst();
        assertEquals(List.of("read"), rule.toJson().get("ops"));
        assertEquals("member/wal/0.wal", rule.toJson().get("file"));
        assertEquals(7L, ((Number) rule.toJson().get("seed")).longValue());
    }

    @Test
    void aFileTheRunDidNotKeepIsReplacedByEveryFileMatchingTheRowsPattern() throws Exception {
        touch(
                "member/snap/0000000000000002-0000000000000009.snap",
                "member/snap/0000000000000002-000000000000000a.snap",
                "member/snap/db");
        Target t = file("member/snap/*-*.snap [0K,4K)", "member/snap/0000000000000001-0000000000000005.snap", 0, 4096);
        Aim aim = Aim.of(t, FaultKind.LOST_WRITE, mount, 1, 50);
        assertEquals(
                List.of(
                        "member/snap/0000000000000002-0000000000000009.snap",
                        "member/snap/0000000000000002-000000000000000a.snap"),
                aim.aimed());
        assertEquals(2, aim.rules().size());
        for (FaultRule r : aim.rules()) {
            assertEquals(0L, ((Number) r.toJson().get("file-offset")).longValue());
            assertEquals(4096L, ((Number) r.toJson().get("file-length")).longValue());
        }
    }

    @Test
    void nothingMatchingMeansNoRules() throws Exception {
        touch("member/wal/0.wal");
        Aim aim = Aim.of(file("member/gone/*.tmp", "member/gone/1.tmp", 0, -1), FaultKind.READ_ERROR, mount, 1, 50);
        assertEquals(List.of(), aim.rules());
    }

    @Test
    void aStructureIsAimedAtByItsRanges() throws Exception {
        Target t = new Target(
                "n1",
                "",
                "ext4 journal",
                "metadata",
                null,
                List.of(List.of(4096L, 8192L), List.of(1L << 20, 512L)),
                3,
                3,
                0,
                -1);
        Aim aim = Aim.of(t, FaultKind.SLOW, null, 1, 25);
        assertEquals(List.of("ext4 journal (2 ranges)"), aim.aimed());
        assertEquals(2, aim.rules().size());
        assertEquals(4096L, ((Number) aim.rules().getFirst().toJson().get("offset")).longValue());
        assertEquals(25L, ((Number) aim.rules().getFirst().toJson().get("ms")).longValue());
    }
}
