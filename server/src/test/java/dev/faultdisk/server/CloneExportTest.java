package dev.faultdisk.server;

import static dev.faultdisk.server.RunningServer.filled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.ExportAdded;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.export.Export;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** export-add from a snapshot of another export: a copy-on-write clone, isolated both ways. */
class CloneExportTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M"));

    private List<String> names() {
        return fd.server.exports().all().stream().map(Export::name).toList();
    }

    @Test
    void aCloneHoldsTheSnapshotAndWritesStayOnTheirSide() throws Exception {
        FaultdiskClient c = fd.client;
        fd.write("d0", 0, filled(4096, 1));
        fd.write("d0", 8192, filled(512, 3));
        c.snapshotCreate("d0", "s");
        fd.write("d0", 0, filled(4096, 2));

        ExportAdded added = c.exportAdd("c0", "d0", "s");
        assertEquals("c0", added.name());
        assertEquals(1 << 20, added.size());
        assertFalse(added.readOnly());
        assertTrue(added.description().startsWith("clone of d0@s"), added.description());

        assertArrayEquals(filled(4096, 1), fd.read("c0", 0, 4096), "the clone holds what the snapshot holds");
        assertArrayEquals(filled(512, 3), fd.read("c0", 8192, 512));
        assertArrayEquals(filled(4096, 2), fd.read("d0", 0, 4096), "the origin goes on");

        fd.write("c0", 8192, filled(512, 4));
        assertArrayEquals(filled(512, 3), fd.read("d0", 8192, 512), "the clone's writes never reach the origin");
        fd.write("d0", 4096, filled(512, 5));
        assertArrayEquals(new byte[512], fd.read("c0", 4096, 512), "nor the origin's the clone");

        c.snapshotRevert("d0", "s");
        assertArrayEquals(filled(512, 4), fd.read("c0", 8192, 512), "a revert of the origin leaves the clone alone");

        // A clone is a full export: snapshots of its own.
        c.snapshotCreate("c0", "mine");
        fd.write("c0", 0, filled(4096, 6));
        c.snapshotRevert("c0", "mine");
        assertArrayEquals(filled(4096, 1), fd.read("c0", 0, 4096));
        assertArrayEquals(filled(4096, 1), fd.read("d0", 0, 4096));
    }

    @Test
    void theOriginStaysWhileItHasClones() throws Exception {
        fd.write("d0", 0, filled(4096, 1));
        fd.client.snapshotCreate("d0", "s");
        fd.client.exportAdd("c0", "d0", "s");
        // Deleting the origin's last snapshot must not write its deltas into the medium the clone reads.
        fd.client.snapshotDelete("d0", "s");
        fd.write("d0", 0, filled(4096, 2));
        assertArrayEquals(filled(4096, 1), fd.read("c0", 0, 4096));

        assertEquals(
                "GenericError: export 'd0' has clones (exports added from its snapshots); remove them first",
                fd.error("{\"execute\": \"export-remove\", \"arguments\": {\"name\": \"d0\"}}"));
        assertEquals(List.of("d0", "c0"), names());
        fd.client.exportRemove("c0");
        fd.client.exportRemove("d0");
        assertEquals(List.of(), names());
    }

    /**
     * A file export f0 with a snapshot s, cloned as c0, then written after the snapshot; returns
     * its image, which must end up holding that last write.
     */
    private Path fileOriginWithClone(Path dir) throws IOException {
        Path image = dir.resolve("origin.img");
        fd.client.exportAdd("f0", image + ",size=1M");
        fd.write("f0", 0, filled(4096, 1));
        fd.client.snapshotCreate("f0", "s");
        fd.client.exportAdd("c0", "f0", "s");
        fd.write("f0", 0, filled(4096, 2));
        return image;
    }

    private static byte[] firstBlock(Path image) throws IOException {
        return Arrays.copyOf(Files.readAllBytes(image), 4096);
    }

    @Test
    void aFileOriginKeepsItsLatestDataAfterItsCloneIsGone(@TempDir Path dir) throws Exception {
        Path image = fileOriginWithClone(dir);
        // Deleted while the clone reads the image: the origin's deltas stay until it closes.
        fd.client.snapshotDelete("f0", "s");
        fd.client.exportRemove("c0");
        fd.client.exportRemove("f0");
        assertArrayEquals(filled(4096, 2), firstBlock(image), "the image holds what was written after the snapshot");
    }

    @Test
    void aServerClosingWithAFileOriginAndItsCloneKeepsTheOriginsLatestData(@TempDir Path dir) throws Exception {
        Path image = fileOriginWithClone(dir);
        fd.close();
        assertArrayEquals(filled(4096, 2), firstBlock(image), "the clone closed first, so the origin wrote back");
    }

    @Test
    void badInputIsAClearErrorAndChangesNothing() throws Exception {
        fd.client.snapshotCreate("d0", "s");
        assertEquals(
                "DeviceNotFound: Device 'nope' not found (exports: d0)",
                fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"c0\", "
                        + "\"from\": {\"device\": \"nope\", \"snapshot\": \"s\"}}}"));
        assertEquals(
                "GenericError: export 'c0': export 'd0' has no snapshot 't' (it has: s)",
                fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"c0\", "
                        + "\"from\": {\"device\": \"d0\", \"snapshot\": \"t\"}}}"));
        assertEquals(
                "GenericError: export-add takes either spec or from, not both",
                fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"c0\", \"spec\": \"memory:1M\", "
                        + "\"from\": {\"device\": \"d0\", \"snapshot\": \"s\"}}}"));
        assertEquals(
                "GenericError: export-add takes either spec or from, neither was given",
                fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"c0\"}}"));
        assertEquals(
                "GenericError: export 'd0' exists already",
                fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"d0\", "
                        + "\"from\": {\"device\": \"d0\", \"snapshot\": \"s\"}}}"));
        assertEquals(List.of("d0"), names());
        assertFalse(fd.export("d0").hasClones(), "a failed clone leaves none behind");
    }
}
