package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** qemu-img reads the export's size, converts images to and from it, and compares them. */
class QemuImgTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int SIZE = 24 << 20;
    private static final long SEED = 0x5eed_0001L;
    private static final Pattern MISMATCH = Pattern.compile("Content mismatch at offset (\\d+)!");

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void infoReportsTheSize(String backend, @TempDir Path dir) throws Exception {
        Tools.require("qemu-img");
        try (TestServer server = new TestServer(TestServer.spec("d", backend, dir, "24M"))) {
            String json = Command.run(TIMEOUT, "qemu-img", "info", "--output=json", server.uri("d"))
                    .assertOk("qemu-img info")
                    .stdout();
            Map<?, ?> info = (Map<?, ?>) Json.parse(json);
            assertEquals(SIZE, ((Number) info.get("virtual-size")).longValue());
            assertEquals("raw", info.get("format"));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void convertsToAndFromTheExportAndComparesIt(String backend, @TempDir Path dir) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path source = dir.resolve("source.raw");
        byte[] content = Images.writeRandom(source, SEED, SIZE);
        try (TestServer server = new TestServer(TestServer.spec("d", backend, dir, "24M"))) {
            String uri = server.uri("d");
            Command.run(TIMEOUT, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(), uri)
                    .assertOk("qemu-img convert to the export");
            Path back = dir.resolve("back.raw");
            Command.run(TIMEOUT, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, back.toString())
                    .assertOk("qemu-img convert from the export");
            Images.assertSameBytes(content, back, "seed " + SEED + ": image copied through the export");

            CommandResult same = Command.run(
                            TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri)
                    .assertOk("qemu-img compare");
            assertTrue(same.stdout().contains("Images are identical."), same.stdout());

            // Change one byte on the export: compare must find it.
            int at = 5_000_001;
            int flipped = ~content[at] & 0xff;
            QemuIo.run(uri, "write -P " + flipped + " " + at + " 1").assertOk("qemu-io write one byte");
            CommandResult differ =
                    Command.run(TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri);
            assertEquals(
                    1,
                    differ.exit(),
                    "qemu-img compare exit status for differing images\n" + differ.stdout() + differ.stderr());
            Matcher m = MISMATCH.matcher(differ.stdout());
            assertTrue(m.find(), differ.stdout());
            long reported = Long.parseLong(m.group(1));
            // qemu-img compares in 512-byte sectors and reports the sector holding the difference.
            assertTrue(reported <= at && at - reported < 512, "reported " + reported + " for a change at " + at);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void mapAndSparseConvertFollowTheAllocation(String backend, @TempDir Path dir) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        try (TestServer server = new TestServer(TestServer.spec("d", backend, dir, "16M"))) {
            String uri = server.uri("d");
            QemuIo.run(uri, "write -P 0x61 1M 64k", "write -P 0x62 8M 128k").assertOk("qemu-io write");
            // QEMU asks for block status one extent at a time (REQ_ONE), unlike nbdinfo.
            List<String> expected = List.of(
                    "0+1048576 zero",
                    "1048576+65536 data",
                    "1114112+7274496 zero",
                    "8388608+131072 data",
                    "8519680+8257536 zero");
            assertEquals(expected, map("raw", uri));

            // A sparse-aware conversion to qcow2 copies only the data and keeps the content.
            Path qcow2 = dir.resolve("copy.qcow2");
            Command.run(TIMEOUT, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", uri, qcow2.toString())
                    .assertOk("qemu-img convert to qcow2");
            assertEquals(expected, map("qcow2", qcow2.toString()), "allocation of the qcow2 copy");
            CommandResult same = Command.run(
                            TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "qcow2", uri, qcow2.toString())
                    .assertOk("qemu-img compare with the qcow2 copy");
            assertTrue(same.stdout().contains("Images are identical."), same.stdout());
        }
    }

    /** {@code qemu-img map} as "start+length data|zero" lines. */
    private static List<String> map(String format, String image) {
        String json = Command.run(TIMEOUT, "qemu-img", "map", "-f", format, "--output=json", image)
                .assertOk("qemu-img map " + image)
                .stdout();
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) Json.parse(json)) {
            Map<?, ?> extent = (Map<?, ?>) o;
            boolean data = (Boolean) extent.get("data");
            boolean zero = (Boolean) extent.get("zero");
            assertTrue(data != zero, "an extent is either data or zero here: " + extent);
            out.add(extent.get("start") + "+" + extent.get("length") + (data ? " data" : " zero"));
        }
        return out;
    }
}
