package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.snapshot.SnapshotVolume;
import dev.faultdisk.wire.CacheMode;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** serve --config: a sound file starts what it says; a faulty one names file, line and member, and starts nothing. */
class ServeConfigTest {
    @TempDir
    Path dir;

    /** Test resource serve-config/{@code name} written into the temporary directory, naming {@code image}. */
    private Path config(String name, Path image) throws Exception {
        try (InputStream in = ServeConfigTest.class.getResourceAsStream("/serve-config/" + name)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            Path file = dir.resolve(name);
            Files.writeString(file, text.replace("${image}", image.toString()));
            return file;
        }
    }

    @Test
    void aSoundConfigStartsWithItsExportsRulesPresetsAndTriggers() throws Exception {
        Path image = dir.resolve("data.img");
        Path config = config("ok.json", image);
        FaultdiskServer.Builder builder = FaultdiskServer.builder();
        assertEquals(null, ServeConfig.load(config, builder).journal());
        try (FaultdiskServer server = builder.start()) {
            assertEquals(42, server.faultSeed());
            Export disk0 = server.exports().find("disk0").orElseThrow();
            assertEquals(CacheMode.WRITEBACK, disk0.writeCache().status().mode());
            assertEquals(2, disk0.faults().rules().size(), "the delay rule and the preset's rule");
            assertEquals(1, disk0.blkdebug().rules().size());
            assertEquals("r", disk0.blkdebug().breakpoints().getFirst().tag());
            assertEquals(1, server.triggers().size());
            assertEquals(1 << 20, server.exports().find("data").orElseThrow().size());
            assertEquals(
                    List.of("golden"),
                    server.exports().find("data").orElseThrow().snapshots().stream()
                            .map(SnapshotVolume.Snapshotted::name)
                            .toList(),
                    "a snapshot taken at start");
        }
    }

    @Test
    void everyProblemNamesFileLineAndMemberAndNothingIsCreated() throws Exception {
        Path image = dir.resolve("never.img");
        Path config = config("bad.json", image);
        ServeConfig.ConfigException e = assertThrows(
                ServeConfig.ConfigException.class, () -> ServeConfig.load(config, FaultdiskServer.builder()));
        List<String> problems = e.problems();
        assertEquals(4, problems.size(), String.join("\n", problems));
        assertTrue(problems.get(0).startsWith(config + ":8: exports[0].faults[1].probability"), problems.get(0));
        assertTrue(
                problems.get(1).startsWith(config + ":10: exports[1].spec: unknown export option 'cash=writeback'"),
                problems.get(1));
        assertTrue(
                problems.get(2).startsWith(config + ":13: triggers[0].when.device names no export: 'nope'"),
                problems.get(2));
        assertTrue(problems.get(3).startsWith(config + ":15: colour: unknown member"), problems.get(3));
        assertFalse(Files.exists(image), "checking created no image");
    }
}
