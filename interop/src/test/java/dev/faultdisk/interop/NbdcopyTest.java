package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** nbdcopy (libnbd) copies a local image into the export and back out, over one or several connections. */
class NbdcopyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int SIZE = 24 << 20;
    private static final int HOLE_START = 8 << 20;
    private static final int HOLE_END = 12 << 20;

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void copiesInAndOutOverOneConnection(String backend, @TempDir Path dir) throws Exception {
        roundTrip(backend, dir, 0x5eed_0002L, List.of("--connections=1"), 1);
    }

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void copiesInAndOutOverFourConnections(String backend, @TempDir Path dir) throws Exception {
        // nbdcopy opens several connections only to a server that advertises CAN_MULTI_CONN, and
        // no more connections than threads.
        roundTrip(backend, dir, 0x5eed_0003L, List.of("--connections=4", "--threads=4"), 4);
    }

    private static void roundTrip(String backend, Path dir, long seed, List<String> options, int connections)
            throws Exception {
        Tools.require("nbdcopy", "qemu-io");
        // The source has a sparse hole in the middle; the export starts full of 0xff, so the hole
        // only reads back as zeroes if nbdcopy's zero requests work.
        Path source = dir.resolve("source.raw");
        byte[] content = Images.random(seed, SIZE);
        Arrays.fill(content, HOLE_START, HOLE_END, (byte) 0);
        try (RandomAccessFile raf = new RandomAccessFile(source.toFile(), "rw")) {
            raf.setLength(SIZE);
            raf.write(content, 0, HOLE_START);
            raf.seek(HOLE_END);
            raf.write(content, HOLE_END, SIZE - HOLE_END);
        }
        try (TestServer server = new TestServer(TestServer.spec("d", backend, dir, "24M"))) {
            String uri = server.uri("d");
            QemuIo.run(uri, "write -P 0xff 0 24M").assertOk("fill the export with 0xff");

            long before = server.server().acceptedCount();
            nbdcopy(options, source.toString(), uri);
            long in = server.server().acceptedCount() - before;
            assertEquals(connections, in, "connections nbdcopy opened to write the export");
            assertTrue(
                    server.export("d").stats().ops(BlockOp.WRITE_ZEROES)
                                    + server.export("d").stats().ops(BlockOp.TRIM)
                            >= 1,
                    "the hole went over as a zero request");

            Path back = dir.resolve("back.raw");
            before = server.server().acceptedCount();
            nbdcopy(options, uri, back.toString());
            long out = server.server().acceptedCount() - before;
            assertEquals(connections, out, "connections nbdcopy opened to read the export");
            Images.assertSameBytes(content, back, "seed " + seed + ", nbdcopy " + options);
        }
    }

    private static void nbdcopy(List<String> options, String from, String to) {
        List<String> command = new ArrayList<>();
        command.add("nbdcopy");
        command.addAll(options);
        command.add(from);
        command.add(to);
        Command.run(TIMEOUT, command).assertOk(String.join(" ", command));
    }
}
