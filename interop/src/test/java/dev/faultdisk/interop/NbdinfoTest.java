package dev.faultdisk.interop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nbdinfo (libnbd) sees the exports, their sizes, flags and allocation map. */
class NbdinfoTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int DATA = 0;
    private static final int HOLE_ZERO = 3;

    @Test
    void listsExportsAndDescribesEach(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo");
        try (TestServer server = new TestServer("disk0=memory:64M", "small=memory:1M,readonly",
                TestServer.spec("img", "file", dir, "3M"))) {
            String list = Tools.run(TIMEOUT, "nbdinfo", "--list", server.uri("")).assertOk("nbdinfo --list").stdout();
            for (String name : List.of("disk0", "small", "img")) {
                assertTrue(list.contains("export=\"" + name + "\""), list);
            }

            String rw = json(server, "disk0");
            assertEquals("disk0", Json.field(rw, "export-name"));
            assertEquals(64L << 20, Json.number(rw, "export-size"));
            assertEquals("memory, 64 MiB", Json.field(rw, "description"));
            assertEquals(false, Json.bool(rw, "is_read_only"));
            for (String flag : List.of("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_cache",
                    "can_df", "can_multi_conn")) {
                assertEquals(true, Json.bool(rw, flag), flag + " in\n" + rw);
            }
            assertEquals(1, Json.number(rw, "block_size_minimum"));
            assertEquals(4096, Json.number(rw, "block_size_preferred"));
            assertEquals(32L << 20, Json.number(rw, "block_size_maximum"));
            assertTrue(rw.contains("\"base:allocation\""), rw);

            String ro = json(server, "small");
            assertEquals(1L << 20, Json.number(ro, "export-size"));
            assertEquals(true, Json.bool(ro, "is_read_only"));
            for (String flag : List.of("can_trim", "can_zero", "can_fast_zero")) {
                assertEquals(false, Json.bool(ro, flag), flag + " on a read-only export in\n" + ro);
            }
            assertEquals(true, Json.bool(ro, "can_flush"));

            String file = json(server, "img");
            assertEquals(3L << 20, Json.number(file, "export-size"));
            assertEquals(false, Json.bool(file, "is_read_only"));
            assertTrue(Json.field(file, "description").contains(dir.resolve("img.img").toString()), file);
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
            assertEquals(expected(size, 0, 4096, (4 << 20) + 4096, 8192, 10 << 20, 8192), map(uri),
                    "after writing at 10M and discarding at 4M");
        }
    }

    private static String json(TestServer server, String export) {
        return Tools.run(TIMEOUT, "nbdinfo", "--json", server.uri(export)).assertOk("nbdinfo --json " + export).stdout();
    }

    private static List<Json.Extent> map(String uri) {
        return Json.extents(Tools.run(TIMEOUT, "nbdinfo", "--map", "--json", uri).assertOk("nbdinfo --map").stdout());
    }

    /** The extent list of an export of {@code size} with data at the (offset, length) pairs, holes elsewhere. */
    private static List<Json.Extent> expected(long size, long... data) {
        List<Json.Extent> out = new ArrayList<>();
        long pos = 0;
        for (int i = 0; i < data.length; i += 2) {
            if (data[i] > pos) {
                out.add(new Json.Extent(pos, data[i] - pos, HOLE_ZERO, "hole,zero"));
            }
            out.add(new Json.Extent(data[i], data[i + 1], DATA, "data"));
            pos = data[i] + data[i + 1];
        }
        if (pos < size) {
            out.add(new Json.Extent(pos, size - pos, HOLE_ZERO, "hole,zero"));
        }
        return out;
    }
}
