package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.NbdCopy;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large writes that no layer needs go from the client's socket into the image file through a pipe
 * (splice, docs/BENCHMARKS.md), from the pipe into a memory export's pages, or, for a connection
 * alone in sending them, straight into a memory export's own pages. Real clients' bytes must land
 * exactly; every layer that acts on writes (a fault rule added at run time, the write cache keeping
 * data) must still see each write; a client that goes away mid-payload changes nothing; TLS
 * connections to an image file keep the buffered path.
 */
class SplicedWriteTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int SIZE = 8 << 20;
    private static final int MIB = 1 << 20;

    /** A dense image of random bytes exported as "img"; returns its file and content. */
    private static SendfileReadTest.Image exportImage(FaultdiskClient fd, Path dir, long seed, String options)
            throws IOException {
        SendfileReadTest.Image image = SendfileReadTest.image(dir, seed);
        fd.exportAdd("img", image.file() + options);
        return image;
    }

    /** Export "img" of the test's server, over plain TCP. */
    private static String imgUri(FaultdiskServer server) {
        return "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/img";
    }

    /** Copies {@code content} into the export with nbdcopy ({@code options} choose its request size). */
    private static void copyIn(byte[] content, String uri, Path dir, String... options) throws IOException {
        Path in = dir.resolve("in.raw");
        Files.write(in, content);
        NbdCopy.copy(in.toString(), uri, options);
    }

    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void largeWritesOfRealClientsLandExactlyThroughThePipe(
            FaultdiskClient fd, FaultdiskServer server, @TempDir Path dir) throws IOException {
        Tools.require("nbdcopy", "qemu-io");
        NbdServer nbd = server.nbd();
        SendfileReadTest.Image img = exportImage(fd, dir, 0x5b11_ce01L, "");
        String uri = imgUri(server);

        // nbdcopy: 256 KiB and 1 MiB requests, several in flight on each connection.
        byte[] first = Images.random(0x5b11_ce02L, SIZE);
        long before = nbd.writesThroughPipe();
        copyIn(first, uri, dir);
        Images.assertSameBytes(first, img.file(), "the image nbdcopy wrote in 256 KiB requests");
        assertTrue(nbd.writesThroughPipe() >= before + SIZE / (256 << 10), "its writes went through the pipe");
        byte[] second = Images.random(0x5b11_ce03L, SIZE);
        before = nbd.writesThroughPipe();
        copyIn(second, uri, dir, "--request-size=1048576");
        Images.assertSameBytes(second, img.file(), "the image nbdcopy wrote in 1 MiB requests");
        assertTrue(nbd.writesThroughPipe() >= before + SIZE / MIB, "its writes went through the pipe");

        // qemu-io: unaligned places and lengths, FUA, and the small write that stays buffered.
        before = nbd.writesThroughPipe();
        QemuIo.run(uri, "write -P 0x5a 1000000 700000", "write -f -P 0x6b 3M 1M", "write -P 0x7c 5M 4096")
                .assertOk("three writes");
        Arrays.fill(second, 1_000_000, 1_700_000, (byte) 0x5a);
        Arrays.fill(second, 3 * MIB, 4 * MIB, (byte) 0x6b);
        Arrays.fill(second, 5 * MIB, 5 * MIB + 4096, (byte) 0x7c);
        Images.assertSameBytes(second, img.file(), "the image after qemu-io's writes");
        assertEquals(
                before + 2, nbd.writesThroughPipe(), "the two large writes went through the pipe, the small one not");
        Images.assertSameBytes(second, SendfileReadTest.copyOut(uri, dir), "the image read back over NBD");
    }

    @Test
    @Faultdisk(exports = "mem=memory:8M")
    void largeWritesToAMemoryExportGoIntoItsPages(FaultdiskServer server, @TempDir Path dir) throws IOException {
        Tools.require("nbdcopy", "qemu-io");
        NbdServer nbd = server.nbd();
        String uri = "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/mem";
        byte[] content = Images.random(0x5b11_ce0aL, SIZE);
        long before = staged(nbd);
        copyIn(content, uri, dir);
        // nbdcopy's connections each send large writes: they splice, or go into pages while alone.
        assertTrue(staged(nbd) >= before + SIZE / (256 << 10), "nbdcopy's writes went through the pipe or into pages");
        Images.assertSameBytes(content, SendfileReadTest.copyOut(uri, dir), "what nbdcopy wrote, read back");

        // Over pages already there, from an offset inside a page, and a write into pages never written.
        before = staged(nbd);
        QemuIo.run(uri, "write -P 0x6c 1000001 1M", "discard 5M 1M", "write -P 0x3d 5M 512k")
                .assertOk("qemu-io's writes");
        assertEquals(before + 2, staged(nbd), "both large writes staged");
        Arrays.fill(content, 1_000_001, 1_000_001 + MIB, (byte) 0x6c);
        Arrays.fill(content, 5 * MIB, 6 * MIB, (byte) 0);
        Arrays.fill(content, 5 * MIB, 5 * MIB + (512 << 10), (byte) 0x3d);
        Images.assertSameBytes(content, SendfileReadTest.copyOut(uri, dir), "after qemu-io's writes");
    }

    /** Writes that went through the pipe or into a memory export's pages. */
    private static long staged(NbdServer nbd) {
        return nbd.writesThroughPipe() + nbd.writesIntoPages();
    }

    /**
     * A connection alone in sending large writes to a memory export receives each payload straight
     * into the export's pages, over TCP or TLS: real clients' bytes land exactly wherever a write
     * starts and ends, a small write stays buffered, and a client that goes away mid-payload
     * changes nothing while the server goes on.
     */
    @Test
    void largeWritesOfAConnectionAloneAreReceivedIntoAMemoryExportsPages(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdcopy", "qemu-io");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        // Every stream alone at once (nbdcopy's four connections and qemu-io's two writes too): the
        // way into pages is what is tested, not how long a stream must run alone to take it.
        System.setProperty("faultdisk.nbd.largeWritesAloneMillis", "0");
        FaultdiskServer started;
        try {
            started = FaultdiskServer.builder()
                    .export("mem=memory:8M")
                    .nbd(new InetSocketAddress("127.0.0.1", 0))
                    .nbdOptions(
                            NbdServer.Options.defaults().withTls(TlsMode.ON, TlsCredentials.server(pki.dir(), false)))
                    .start();
        } finally {
            System.clearProperty("faultdisk.nbd.largeWritesAloneMillis");
        }
        try (FaultdiskServer server = started) {
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            NbdServer nbd = server.nbd();
            String plain = "nbd://127.0.0.1:" + port + "/mem";
            String secure = "nbds://localhost:" + port + "/mem?tls-certificates=" + pki.caOnly();

            byte[] content = Images.random(0x5b11_ce0cL, SIZE);
            long pipe = nbd.writesThroughPipe();
            copyIn(content, plain, dir);
            assertTrue(nbd.writesIntoPages() >= SIZE / (256 << 10), "nbdcopy's 256 KiB writes went into pages");
            assertEquals(pipe, nbd.writesThroughPipe(), "none through the pipe");
            Images.assertSameBytes(content, SendfileReadTest.copyOut(plain, dir), "what nbdcopy wrote, read back");

            long before = nbd.writesIntoPages();
            QemuIo.run(plain, "write -P 0x6c 1000001 1M", "write -f -P 0x5d 3M 1M", "write -P 0x7e 6M 4096")
                    .assertOk("qemu-io's writes");
            assertEquals(before + 2, nbd.writesIntoPages(), "the two large writes into pages, the small one not");
            Arrays.fill(content, 1_000_001, 1_000_001 + MIB, (byte) 0x6c);
            Arrays.fill(content, 3 * MIB, 4 * MIB, (byte) 0x5d);
            Arrays.fill(content, 6 * MIB, 6 * MIB + 4096, (byte) 0x7e);
            Images.assertSameBytes(content, SendfileReadTest.copyOut(plain, dir), "after qemu-io's writes");

            // Every other page of the first MiB trimmed: the next large write's pages lie apart,
            // and the payload is read into all of them at once.
            List<String> trims = new java.util.ArrayList<>();
            for (int page = 0; page < 256; page += 2) {
                trims.add("discard " + page * 4096 + " 4k");
                Arrays.fill(content, page * 4096, page * 4096 + 4096, (byte) 0);
            }
            QemuIo.run(plain, trims.toArray(String[]::new)).assertOk("the trims");
            before = nbd.writesIntoPages();
            QemuIo.run(plain, "write -P 0x4f 7M 1M").assertOk("a write into pages lying apart");
            assertEquals(before + 1, nbd.writesIntoPages());
            Arrays.fill(content, 7 * MIB, 8 * MIB, (byte) 0x4f);
            Images.assertSameBytes(content, SendfileReadTest.copyOut(plain, dir), "after the trims and the write");

            byte[] overTls = Images.random(0x5b11_ce0dL, SIZE);
            before = nbd.writesIntoPages();
            copyIn(overTls, secure, dir, "--request-size=1048576");
            assertTrue(nbd.writesIntoPages() >= before + SIZE / MIB, "nbdcopy's writes over TLS went into pages");
            Images.assertSameBytes(overTls, SendfileReadTest.copyOut(plain, dir), "what nbdcopy wrote over TLS");

            before = nbd.writesIntoPages();
            try (RawNbd client = RawNbd.open(port, "mem")) {
                client.header(RawNbd.READ, 1, 0, 4096);
                assertEquals(0, client.reply(1, 4096));
                client.header(RawNbd.WRITE, 2, MIB, MIB);
                client.out.write(Images.filled(600 << 10, 0xee));
                client.out.flush();
            }
            await().atMost(WAIT).until(() -> nbd.connections().isEmpty());
            assertEquals(before, nbd.writesIntoPages(), "the half-sent write was not written");
            Images.assertSameBytes(
                    overTls, SendfileReadTest.copyOut(plain, dir), "the export after the half-sent write");
        }
    }

    /**
     * Stalled clients cannot spend a memory export's memory: a large write's header, and the first
     * bytes of its payload, hold none of the export's pages; each write takes them once its
     * payload has started to arrive, and lands whole.
     */
    @Test
    void aLargeWritesHeaderAloneHoldsNoneOfAMemoryExportsPages() throws Exception {
        System.setProperty("faultdisk.nbd.largeWritesAloneMillis", "0"); // every stream takes the pages' way
        FaultdiskServer started;
        try {
            started = FaultdiskServer.builder()
                    .export("mem=memory:32M")
                    .nbd(new InetSocketAddress("127.0.0.1", 0))
                    .start();
        } finally {
            System.clearProperty("faultdisk.nbd.largeWritesAloneMillis");
        }
        try (FaultdiskServer server = started) {
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            MemoryDevice memory =
                    (MemoryDevice) server.exports().find("mem").orElseThrow().backend();
            int stalled = 16;
            List<RawNbd> clients = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < stalled; i++) {
                    RawNbd client = RawNbd.open(port, "mem");
                    clients.add(client);
                    client.header(RawNbd.READ, 1, 0, 4096);
                    assertEquals(0, client.reply(1, 4096));
                    client.header(RawNbd.WRITE, 2, (long) i * MIB, MIB);
                    client.out.write(Images.filled(64 << 10, 0x10 + i)); // started, barely
                    client.out.flush();
                }
                await().during(Duration.ofMillis(700))
                        // never less: nothing frees pages here. Each header's pages are taken
                        // and given back at once to the export's free pages, which stay held: a
                        // slab (2 MiB), two where readers happen to overlap; 16 MiB if kept.
                        .atMost(Duration.ofSeconds(5))
                        .until(memory::pageMemoryBytes, held -> held <= 4 * MIB);
                for (int i = 0; i < stalled; i++) {
                    RawNbd client = clients.get(i);
                    client.out.write(Images.filled(MIB - (64 << 10), 0x10 + i));
                    client.out.flush();
                    assertEquals(0, client.reply(2, 0), "write " + i);
                }
            } finally {
                for (RawNbd client : clients) {
                    client.close();
                }
            }
            assertEquals(stalled, server.nbd().writesIntoPages(), "each write received into pages once it started");
            try (RawNbd reader = RawNbd.open(port, "mem")) {
                for (int i = 0; i < stalled; i++) {
                    reader.header(RawNbd.READ, 3, (long) i * MIB, MIB);
                    assertEquals(0, reader.replyHeader(3));
                    byte[] got = new byte[MIB];
                    reader.in.readFully(got);
                    assertArrayEquals(Images.filled(MIB, 0x10 + i), got, "write " + i + " read back");
                }
            }
        }
    }

    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void aRuleAddedAtRunTimeSeesEveryWriteAndTheCacheKeepsWhatItHolds(
            FaultdiskClient fd, FaultdiskServer server, @TempDir Path dir) throws IOException {
        Tools.require("qemu-io");
        NbdServer nbd = server.nbd();
        SendfileReadTest.Image img = exportImage(fd, dir, 0x5b11_ce04L, "");
        byte[] content = img.content();
        String uri = imgUri(server);

        fd.faultAdd("img", FaultRule.error("EIO").ops("write").range(2 * MIB, 4096));
        long ruled = nbd.writesThroughPipe();
        CommandResult failed = QemuIo.run(uri, "write -P 0x11 2M 1M", "write -P 0x22 3M 1M");
        assertEquals(
                List.of("write failed: Input/output error", "wrote 1048576/1048576 bytes at offset 3145728"),
                QemuIo.reports(failed.stdout()),
                failed.toString());
        assertEquals(ruled, nbd.writesThroughPipe(), "no write went around the rule");
        Arrays.fill(content, 3 * MIB, 4 * MIB, (byte) 0x22);
        Images.assertSameBytes(content, img.file(), "the failed write changed nothing, the other landed");

        fd.faultClear("img");
        QemuIo.run(uri, "write -P 0x33 2M 1M").assertOk("the write the rule failed, once it is removed");
        Arrays.fill(content, 2 * MIB, 3 * MIB, (byte) 0x33);
        Images.assertSameBytes(content, img.file(), "the write landed");
        assertEquals(ruled + 1, nbd.writesThroughPipe(), "through the pipe again");

        // lying-flush: the cache keeps every write, so none may go to the file.
        fd.exportRemove("img");
        SendfileReadTest.Image cached = exportImage(fd, dir, 0x5b11_ce05L, ",cache=lying-flush");
        long before = nbd.writesThroughPipe();
        QemuIo.run(uri, "write -P 0x44 1M 1M", "flush", "read -P 0x44 1M 1M").assertOk("write into the cache");
        assertArrayEquals(cached.content(), Files.readAllBytes(cached.file()), "the write is in the cache only");
        assertEquals(before, nbd.writesThroughPipe(), "the cache took the write's bytes");
    }

    /**
     * A client that sends a large write's header and part of its payload, then goes away: nothing
     * of it reaches the image, and the server goes on serving.
     */
    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void aClientThatGoesAwayMidPayloadChangesNothing(FaultdiskClient fd, FaultdiskServer server, @TempDir Path dir)
            throws IOException {
        SendfileReadTest.Image img = exportImage(fd, dir, 0x5b11_ce06L, "");
        int port = ((InetSocketAddress) server.nbdAddress()).getPort();
        try (RawNbd client = RawNbd.open(port, "img")) {
            client.header(RawNbd.READ, 1, 0, 4096); // moves the connection to its busy reader first
            assertEquals(0, client.reply(1, 4096));
            client.header(RawNbd.WRITE, 2, MIB, MIB);
            client.out.write(Images.filled(600 << 10, 0xee));
            client.out.flush();
        }
        await().atMost(WAIT).until(() -> server.nbd().connections().isEmpty());
        Images.assertSameBytes(img.content(), img.file(), "the image after the half-sent write");
        Tools.require("nbdcopy");
        Images.assertSameBytes(img.content(), SendfileReadTest.copyOut(imgUri(server), dir), "the image over NBD");
    }

    /**
     * A payload that arrives in many small pieces, each spliced on its own, takes a slot of the
     * pipe per piece, so the pipe fills before the payload is in: the rest then comes the buffered
     * way, the write lands whole and the stream stays in step; the next payload, sent at once,
     * goes through the pipe again.
     */
    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void aPayloadInManySmallPiecesLandsWholeAndTheStreamStaysInStep(
            FaultdiskClient fd, FaultdiskServer server, @TempDir Path dir) throws IOException {
        SendfileReadTest.Image img = exportImage(fd, dir, 0x5b11_ce07L, "");
        byte[] content = img.content();
        byte[] payload = Images.random(0x5b11_ce08L, MIB);
        int port = ((InetSocketAddress) server.nbdAddress()).getPort();
        NbdServer nbd = server.nbd();
        try (RawNbd client = RawNbd.open(port, "img")) {
            client.socket.setTcpNoDelay(true);
            client.header(RawNbd.READ, 1, 0, 4096);
            assertEquals(0, client.reply(1, 4096));
            long before = nbd.writesThroughPipe();
            client.header(RawNbd.WRITE, 2, 2 * MIB, MIB);
            for (int at = 0; at < MIB; at += 256) {
                client.out.write(payload, at, 256);
                client.out.flush(); // a segment of its own, which the server splices before the next comes
                LockSupport.parkNanos(100_000);
            }
            assertEquals(0, client.replyHeader(2), "the write sent in pieces");
            assertEquals(before, nbd.writesThroughPipe(), "the pipe filled: the write went the buffered way");
            System.arraycopy(payload, 0, content, 2 * MIB, MIB);

            client.header(RawNbd.WRITE, 3, 4 * MIB, MIB);
            client.out.write(payload);
            client.out.flush();
            assertEquals(0, client.replyHeader(3), "the write sent at once");
            assertEquals(before + 1, nbd.writesThroughPipe(), "through the pipe again");
            System.arraycopy(payload, 0, content, 4 * MIB, MIB);

            client.header(RawNbd.READ, 9, 2 * MIB, 4096);
            assertEquals(0, client.replyHeader(9), "a read after the writes");
            byte[] got = new byte[4096];
            client.in.readFully(got);
            assertArrayEquals(Arrays.copyOf(payload, 4096), got, "the read sees the write");
        }
        Images.assertSameBytes(content, img.file(), "the image after both writes");
    }

    @Test
    void tlsWritesStayBufferedAndPlainOnesOnTheSameServerSplice(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdcopy");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        SendfileReadTest.Image image = SendfileReadTest.image(dir, 0x5b11_ce09L);
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("img=" + image.file())
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withTls(TlsMode.ON, TlsCredentials.server(pki.dir(), false)))
                .start()) {
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            NbdServer nbd = server.nbd();
            byte[] overTls = Images.random(0x5b11_ce0aL, SIZE);
            copyIn(overTls, "nbds://localhost:" + port + "/img?tls-certificates=" + pki.caOnly(), dir);
            Images.assertSameBytes(overTls, image.file(), "the image written over TLS");
            assertEquals(0, nbd.writesThroughPipe(), "a TLS connection spliced nothing");

            byte[] plain = Images.random(0x5b11_ce0bL, SIZE);
            copyIn(plain, "nbd://127.0.0.1:" + port + "/img", dir);
            Images.assertSameBytes(plain, image.file(), "the image written in plain");
            assertTrue(nbd.writesThroughPipe() > 0, "a plain connection on the same server splices");
        }
    }
}
