package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nbdinfo (libnbd) sees the exports, their sizes, flags and allocation map. */
class NbdinfoTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int DATA = 0;
    private static final int ZERO = 2;
    private static final int HOLE_ZERO = 3;

    @Test
    void listsExportsAndDescribesEach(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo");
        try (TestServer server = new TestServer(
                "disk0=memory:64M", "small=memory:1M,readonly", TestServer.spec("img", "file", dir, "3M"))) {
            String list = Command.run(TIMEOUT, "nbdinfo", "--list", server.uri(""))
                    .assertOk("nbdinfo --list")
                    .stdout();
            for (String name : List.of("disk0", "small", "img")) {
                assertTrue(list.contains("export=\"" + name + "\""), list);
            }

            String rwText = json(server, "disk0");
            Map<String, Object> rw = export(rwText);
            assertEquals("disk0", rw.get("export-name"));
            assertEquals(64L << 20, ((Number) rw.get("export-size")).longValue());
            assertEquals("memory, 64 MiB", rw.get("description"));
            assertEquals(false, rw.get("is_read_only"));
            for (String flag : List.of(
                    "can_flush",
                    "can_fua",
                    "can_trim",
                    "can_zero",
                    "can_fast_zero",
                    "can_cache",
                    "can_df",
                    "can_multi_conn")) {
                assertEquals(true, rw.get(flag), flag + " in\n" + rwText);
            }
            assertEquals(1, ((Number) rw.get("block_size_minimum")).longValue());
            assertEquals(4096, ((Number) rw.get("block_size_preferred")).longValue());
            assertEquals(32L << 20, ((Number) rw.get("block_size_maximum")).longValue());
            assertTrue(rwText.contains("\"base:allocation\""), rwText);

            Map<String, Object> ro = export(json(server, "small"));
            assertEquals(1L << 20, ((Number) ro.get("export-size")).longValue());
            assertEquals(true, ro.get("is_read_only"));
            for (String flag : List.of("can_trim", "can_zero", "can_fast_zero")) {
                assertEquals(false, ro.get(flag), flag + " on a read-only export in\n" + ro);
            }
            assertEquals(true, ro.get("can_flush"));

            Map<String, Object> file = export(json(server, "img"));
            assertEquals(3L << 20, ((Number) file.get("export-size")).longValue());
            assertEquals(false, file.get("is_read_only"));
            assertTrue(
                    ((String) file.get("description"))
                            .contains(dir.resolve("img.img").toString()),
                    file.toString());
        }
    }

    @Test
    void mapShowsWrittenAndDiscardedRangesOnMemoryExport() throws Exception {
        Tools.require("nbdinfo", "qemu-io");
        try (TestServer server = new TestServer("disk0=memory:16M")) {
            String uri = server.uri("disk0");
            assertEquals(expected(16 << 20), map(uri), "fresh export is one hole");
            // 64 KiB aligned, so the memory backend's allocation unit does not round the ranges.
            QemuIo.run(uri, "write -P 0x5a 1M 64k", "write -P 0x5b 8M 192k", "write -P 0x5c 16320k 64k")
                    .assertOk("qemu-io write");
            assertEquals(expected(16 << 20, 1 << 20, 64 << 10, 8 << 20, 192 << 10, 16320 << 10, 64 << 10), map(uri));
            QemuIo.run(uri, "discard 1M 64k", "discard 8M 64k").assertOk("qemu-io discard");
            assertEquals(expected(16 << 20, (8 << 20) + (64 << 10), 128 << 10, 16320 << 10, 64 << 10), map(uri));
        }
    }

    @Test
    void mapShowsDataAndHolesOfSparseFile(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo", "qemu-io");
        Path image = dir.resolve("sparse.img");
        int size = 16 << 20;
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
            raf.setLength(size); // sparse: no blocks allocated
            raf.seek(0);
            raf.write(Images.random(1, 4096));
            raf.seek(4 << 20);
            raf.write(Images.random(2, 12288));
            raf.getFD().sync();
        }
        try (TestServer server = new TestServer("sparse=" + image)) {
            String uri = server.uri("sparse");
            assertEquals(expected(size, 0, 4096, 4 << 20, 12288), map(uri), "ranges written before serving");
            // File-system blocks are 4 KiB: aligned writes and discards show exactly.
            QemuIo.run(uri, "write -P 0x77 10M 8k", "discard 4M 4k").assertOk("qemu-io");
            assertEquals(
                    expected(size, 0, 4096, (4 << 20) + 4096, 8192, 10 << 20, 8192),
                    map(uri),
                    "after writing at 10M and discarding at 4M");
        }
    }

    /**
     * Under two snapshots of a 4 TiB memory export: blocks written before them are data, zeroes
     * under them read as zeroes (allocated, not holes), a block written into a zeroed run over an
     * older layer is data again, and the rest is the medium's hole. The whole map is 1,024 compact
     * requests of 4 GiB: block status follows what the layers hold, not the range (a block by
     * block walk took 20 ms or more a request).
     */
    @Test
    void mapUnderSnapshotsShowsEachLayersBlocks() throws Exception {
        Tools.require("nbdinfo", "qemu-io");
        long m = 1 << 20;
        long g = 1L << 30;
        long t = 1L << 40;
        try (TestServer server = new TestServer("disk0=memory:4T")) {
            String uri = server.uri("disk0");
            QemuIo.run(uri, "write -P 0x11 1G 1M", "write -P 0x12 2T 1M").assertOk("qemu-io before");
            server.export("disk0").createSnapshot("first");
            QemuIo.run(uri, "write -P 0x21 3T 1M", "write -z 1G 512k", "write -z 3584G 1G")
                    .assertOk("qemu-io over the first");
            server.export("disk0").createSnapshot("second");
            long z = 3584 * g;
            QemuIo.run(uri, "write -P 0x31 " + (z + m) + " 64k").assertOk("qemu-io over the second");
            List<Extent> expected = new ArrayList<>();
            long[][] runs = {
                {0, g, HOLE_ZERO},
                {g, 512 << 10, ZERO},
                {g + (512 << 10), 512 << 10, DATA},
                {g + m, 2 * t - g - m, HOLE_ZERO},
                {2 * t, m, DATA},
                {2 * t + m, t - m, HOLE_ZERO},
                {3 * t, m, DATA},
                {3 * t + m, z - 3 * t - m, HOLE_ZERO},
                {z, m, ZERO},
                {z + m, 64 << 10, DATA},
                {z + m + (64 << 10), g - m - (64 << 10), ZERO},
                {z + g, 4 * t - z - g, HOLE_ZERO},
            };
            for (long[] r : runs) {
                String description = switch ((int) r[2]) {
                    case DATA -> "data";
                    case ZERO -> "zero";
                    default -> "hole,zero";
                };
                expected.add(new Extent(r[0], r[1], (int) r[2], description));
            }
            assertEquals(expected, map(uri));
        }
    }

    private static String json(TestServer server, String export) {
        return Command.run(TIMEOUT, "nbdinfo", "--json", server.uri(export))
                .assertOk("nbdinfo --json " + export)
                .stdout();
    }

    /** The one export {@code nbdinfo --json} describes. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> export(String json) {
        List<Map<String, Object>> exports =
                (List<Map<String, Object>>) ((Map<String, Object>) Json.parse(json)).get("exports");
        assertEquals(1, exports.size(), json);
        return exports.getFirst();
    }

    /** One extent of {@code nbdinfo --map --json}: type 0 is data, 3 is hole and zero. */
    private record Extent(long offset, long length, int type, String description) {
        @Override
        public String toString() {
            return offset + "+" + length + ":" + description;
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Extent> map(String uri) {
        String json = Command.run(TIMEOUT, "nbdinfo", "--map", "--json", uri)
                .assertOk("nbdinfo --map")
                .stdout();
        List<Extent> extents = ((List<Map<String, Object>>) Json.parse(json))
                .stream()
                        .map(e -> new Extent(
                                (Long) e.get("offset"),
                                (Long) e.get("length"),
                                ((Long) e.get("type")).intValue(),
                                (String) e.get("description")))
                        .toList();
        assertFalse(extents.isEmpty(), () -> "no extents in:\n" + json);
        return extents;
    }

    /** The extent list of an export of {@code size} with data at the (offset, length) pairs, holes elsewhere. */
    private static List<Extent> expected(long size, long... data) {
        List<Extent> out = new ArrayList<>();
        long pos = 0;
        for (int i = 0; i < data.length; i += 2) {
            if (data[i] > pos) {
                out.add(new Extent(pos, data[i] - pos, HOLE_ZERO, "hole,zero"));
            }
            out.add(new Extent(data[i], data[i + 1], DATA, "data"));
            pos = data[i] + data[i + 1];
        }
        if (pos < size) {
            out.add(new Extent(pos, size - pos, HOLE_ZERO, "hole,zero"));
        }
        return out;
    }
}
