package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.nbd.ConnectionInfo;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads through io_uring ({@code -Dfaultdisk.nbd.fileReads=uring}): the checks of {@link
 * SendfileReadTest} (large reads, which leave from the mapping in this mode), and here the small
 * reads the ring does: real clients get the image's bytes, a rule added at run time sees every
 * read again, and a client that stops reading or goes away wedges nothing.
 */
class UringReadTest extends SendfileReadTest {
    @Override
    protected String mode() {
        return "uring";
    }

    @BeforeEach
    void requireIoUring() {
        Tools.requireKernelSupport(NbdServer.ioUringUnavailable());
    }

    /** The whole export as nbdcopy reads it in requests of {@code request} bytes, 16 in flight. */
    private static byte[] copyOut(String uri, Path dir, int request) throws IOException {
        return copyOut(uri, dir, "--request-size=" + request, "--requests=16");
    }

    /** Appends a READ request's header. */
    private static void read(ByteBuffer headers, long cookie, long offset, int length) {
        headers.putInt(0x25609513).putShort((short) 0).putShort((short) RawNbd.READ);
        headers.putLong(cookie).putLong(offset).putInt(length);
    }

    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void smallReadsGoThroughTheRingUntilARuleActsAndAgainOnceItIsRemoved(
            FaultdiskClient fd, FaultdiskServer server, @ExportUri("disk0") String disk0, @TempDir Path dir)
            throws IOException {
        Tools.require("nbdcopy", "qemu-io");
        Image image = image(dir, 0x0e1d_0001L);
        Path file = image.file();
        byte[] content = image.content();
        fd.exportAdd("img", file.toString());
        String uri = disk0.replace("/disk0", "/img");
        NbdServer nbd = server.nbd();

        long before = nbd.readsThroughIoUring();
        Images.assertSameBytes(content, copyOut(uri, dir, 4096), "the image in 4 KiB reads");
        assertEquals(SIZE / 4096, nbd.readsThroughIoUring() - before, "every 4 KiB read went through the ring");
        Images.assertSameBytes(content, copyOut(uri, dir, 64 << 10), "the image in 64 KiB reads");

        long ruled = assertRulesSeeEveryRead(
                fd, uri, dir, content, nbd::readsThroughIoUring, 4096, "--request-size=4096", "--requests=16");

        fd.faultClear("img");
        QemuIo.run(uri, "write -P 0x77 4M 8k").assertOk("write 8 KiB");
        Arrays.fill(content, 4 * MIB, 4 * MIB + 8192, (byte) 0x77);
        CommandResult written = QemuIo.run(uri, "read -P 0x77 4M 8k", "read -P 0x77 4M 4k");
        assertEquals(
                List.of("read 8192/8192 bytes at offset 4194304", "read 4096/4096 bytes at offset 4194304"),
                QemuIo.reports(written.stdout()),
                written.toString());
        assertTrue(nbd.readsThroughIoUring() > ruled, "through the ring again once the rules are removed");
        Images.assertSameBytes(content, copyOut(uri, dir, 4096), "the image after the write");
    }

    /**
     * Many small reads of seeded offsets and lengths, all sent before any reply is read: batches of
     * queued reads and their sends come back whole, in order, each with its own bytes.
     */
    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void pipelinedReadsOfEverySizeComeBackWhole(FaultdiskClient fd, FaultdiskServer server, @TempDir Path dir)
            throws IOException {
        Image image = image(dir, 0x0e1d_0002L);
        Path file = image.file();
        byte[] content = image.content();
        fd.exportAdd("img", file.toString());
        int port = ((InetSocketAddress) server.nbdAddress()).getPort();
        SplittableRandom random = new SplittableRandom(0x0e1d_0003L);
        int count = 2000;
        long[] offsets = new long[count];
        int[] lengths = new int[count];
        ByteBuffer headers = ByteBuffer.allocate(count * 28);
        for (int i = 0; i < count; i++) {
            lengths[i] = 1 + random.nextInt(64 << 10);
            offsets[i] = random.nextLong(SIZE - lengths[i] + 1);
            read(headers, i, offsets[i], lengths[i]);
        }
        long before = server.nbd().readsThroughIoUring();
        try (RawNbd client = RawNbd.open(port, "img")) {
            client.out.write(headers.array());
            client.out.flush();
            for (int i = 0; i < count; i++) {
                assertEquals(0, client.replyHeader(i), "read " + i);
                byte[] data = new byte[lengths[i]];
                client.in.readFully(data);
                assertArrayEquals(
                        Arrays.copyOfRange(content, (int) offsets[i], (int) offsets[i] + lengths[i]),
                        data,
                        "read " + i + " at " + offsets[i]);
            }
        }
        assertTrue(server.nbd().readsThroughIoUring() - before > count / 2, "the reads went through the ring");
    }

    /**
     * A client that stops reading: the ring's send takes what the socket holds and the rest waits
     * in an ordinary write; meanwhile other clients are served, and once it reads again every byte
     * arrives. A client that goes away with replies pending only ends its own connection.
     */
    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void aStalledOrVanishedClientWedgesNothing(
            FaultdiskClient fd, FaultdiskServer server, @ExportUri("disk0") String disk0, @TempDir Path dir)
            throws IOException {
        Tools.require("qemu-io");
        Image image = image(dir, 0x0e1d_0004L);
        Path file = image.file();
        byte[] content = image.content();
        fd.exportAdd("img", file.toString());
        String uri = disk0.replace("/disk0", "/img");
        int port = ((InetSocketAddress) server.nbdAddress()).getPort();
        NbdServer nbd = server.nbd();
        int count = 800; // 50 MiB of replies: more than the socket buffers hold
        int length = 64 << 10;
        ByteBuffer headers = ByteBuffer.allocate(count * 28);
        for (int i = 0; i < count; i++) {
            read(headers, i, (long) i * length % SIZE, length);
        }
        try (RawNbd stalled = RawNbd.open(port, "img")) {
            stalled.out.write(headers.array());
            stalled.out.flush();
            await().atMost(WAIT).until(() -> nbd.connections().stream().anyMatch(ConnectionInfo::writingReply));

            CommandResult other = QemuIo.run(uri, "read -v 1M 4k");
            other.assertOk("another client while one is stalled");
            assertTrue(other.stdout().contains("read 4096/4096 bytes at offset 1048576"), other.toString());

            for (int i = 0; i < count; i++) {
                assertEquals(0, stalled.replyHeader(i), "read " + i);
                byte[] data = new byte[length];
                stalled.in.readFully(data);
                int at = (int) ((long) i * length % SIZE);
                assertArrayEquals(Arrays.copyOfRange(content, at, at + length), data, "read " + i);
            }
        }

        int open = nbd.connectionCount();
        try (RawNbd vanishing = RawNbd.open(port, "img")) {
            vanishing.out.write(headers.array());
            vanishing.out.flush();
            await().atMost(WAIT).until(() -> nbd.connections().stream().anyMatch(ConnectionInfo::writingReply));
            vanishing.socket.setSoLinger(true, 0); // a reset, not an orderly close
        }
        await().atMost(WAIT).until(() -> nbd.connectionCount() <= open);
        QemuIo.run(uri, "read 0 64k").assertOk("the server goes on after the client vanished");
    }
}
