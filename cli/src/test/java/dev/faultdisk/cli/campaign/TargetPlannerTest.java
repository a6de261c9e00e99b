package dev.faultdisk.cli.campaign;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.filemap.Owner;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Which rows of a trace become targets, and how a file is cut into pieces. */
class TargetPlannerTest {
    private static final long K = 1024;

    private static Access file(String path) {
        return new Access(path, "file", path);
    }

    private static Map<String, Map<String, Access>> node(String name, Access... rows) {
        Map<String, Access> byLabel = new TreeMap<>();
        for (Access a : rows) {
            byLabel.put(a.label, a);
        }
        return Map.of(name, byLabel);
    }

    @Test
    void aWholeFileIsOneTargetWithItsCounts() {
        Access wal = file("member/wal/0.wal");
        wal.add(true, 1 << 20, 4 * K, 0);
        wal.add(false, 1 << 20, 4 * K, 0);
        List<Target> t = new TargetPlanner(List.of(), false, 1).targets(node("n1", wal), Map.of("n1", "leader"));
        assertEquals(
                List.of(new Target(
                        "n1", "leader", "member/wal/0.wal", "file", "member/wal/0.wal", List.of(), 1, 1, 0, -1)),
                t);
    }

    @Test
    void piecesCoverTheTouchedSpanAndOnlyThePartsTheTraceSawAccessed() {
        Access db = file("db");
        db.add(true, 1 << 20, 4 * K, 0); // the head
        db.add(false, 2 << 20, 4 * K, 60 * K); // the tail
        List<Target> t = new TargetPlanner(List.of(), false, 4).targets(node("n1", db), Map.of());
        assertEquals(
                List.of(
                        new Target("n1", "", "db [0K,16K)", "file", "db", List.of(), 0, 1, 0, 16 * K),
                        new Target("n1", "", "db [48K,64K)", "file", "db", List.of(), 1, 0, 48 * K, 16 * K)),
                t);
        List<Target> blocks = new TargetPlanner(List.of(), false, 0).targets(node("n1", db), Map.of());
        assertEquals(
                List.of("db [0K,4K)", "db [60K,64K)"),
                blocks.stream().map(Target::label).toList());
    }

    @Test
    void globsChooseFilesAndStructuresComeOnlyWhenAskedNeverUnowned() {
        Access wal = file("member/wal/0.wal");
        wal.add(true, 0, 4 * K, 0);
        Access snap = file("member/snap/db");
        snap.add(true, 8 * K, 4 * K, 0);
        Access journal = new Access("ext4 journal", "metadata", null);
        journal.add(true, 64 * K, 8 * K, -1);
        journal.add(true, 72 * K, 4 * K, -1); // touches the first: one range
        Access unowned = new Access("unowned", "unowned", null);
        unowned.add(false, 512 * K, 4 * K, -1);
        Map<String, Map<String, Access>> rows = node("n1", wal, snap, journal, unowned);

        List<Target> filesOnly = new TargetPlanner(List.of("member/wal/*"), false, 1).targets(rows, Map.of());
        assertEquals(
                List.of("member/wal/0.wal"),
                filesOnly.stream().map(Target::label).toList());

        List<Target> all = new TargetPlanner(List.of(), true, 1).targets(rows, Map.of());
        assertEquals(
                List.of("ext4 journal", "member/snap/db", "member/wal/0.wal"),
                all.stream().map(Target::label).toList());
        assertEquals(List.of(List.of(64 * K, 12 * K)), all.getFirst().ranges());
    }

    @Test
    void aRowIsNamedForItsFileWithLongHexRunsAsAStar() {
        assertEquals(
                "member/snap/*-*.snap",
                TargetPlanner.label(
                        new Owner(Owner.Kind.FILE, "/srv/n1/member/snap/x", 0, 0, 1),
                        "member/snap/0000000000000002-0000000000000009.snap"));
        assertEquals(
                "dir member/*",
                TargetPlanner.label(new Owner(Owner.Kind.DIRECTORY, "d", -1, 0, 1), "member/deadbeef01"));
        assertEquals(
                "ext4 journal", TargetPlanner.label(new Owner(Owner.Kind.METADATA, "ext4 journal", -1, 0, 1), null));
    }
}
