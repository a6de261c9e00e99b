package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.nbd.ConnectionInfo;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.NbdCopy;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.FileTrees;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large reads that no layer needs go out straight from a dense image file: by sendfile here
 * ({@code -Dfaultdisk.nbd.fileReads=sendfile}), from its mapping in {@link MappedFileReadTest}
 * (the default; docs/BENCHMARKS.md).
 * Real clients must get the very bytes the usual path gives, and every layer that acts on reads
 * (a fault rule added or removed at run time, the write cache holding newer data, TLS) must still
 * see each read it acts on.
 */
class SendfileReadTest {
    private static final String SWITCH = "faultdisk.nbd.fileReads";
    private String before;

    /** How large reads leave the file in this class's tests (the property is read per connection). */
    protected String mode() {
        return "sendfile";
    }

    @BeforeEach
    void switchOn() {
        before = System.setProperty(SWITCH, mode());
    }

    @AfterEach
    void switchBack() {
        if (before == null) {
            System.clearProperty(SWITCH);
        } else {
            System.setProperty(SWITCH, before);
        }
    }

    static final Duration WAIT = Duration.ofSeconds(60);
    static final int SIZE = 8 << 20;
    static final int MIB = 1 << 20;

    /** A dense image of random bytes from {@code seed}; returns its content. */
    static Image image(Path dir, long seed) throws IOException {
        Path file = dir.resolve("img.raw");
        byte[] content = Images.random(seed, SIZE);
        Files.write(file, content);
        return new Image(file, content);
    }

    /** {@code got} differs from {@code content} in the {@code length} bytes at {@code at}, and only there. */
    static void assertCorruptedOnlyAt(byte[] content, byte[] got, int at, int length) {
        assertFalse(Arrays.equals(content, at, at + length, got, at, at + length), "the rule corrupted its range");
        assertTrue(Arrays.equals(content, 0, at, got, 0, at), "before the rule's range");
        assertTrue(Arrays.equals(content, at + length, SIZE, got, at + length, SIZE), "after the rule's range");
    }

    /** A dense image file and its content. */
    record Image(Path file, byte[] content) {}

    /** An image the test server exports as "img", and the export's URI. */
    private record Exported(Path file, byte[] content, String uri) {}

    /**
     * Writes a dense image of random bytes from {@code seed} and adds it as export "img", with
     * {@code options}, for nbdcopy and qemu-io to read and write.
     */
    private static Exported exportImage(FaultdiskClient fd, String disk0, Path dir, long seed, String options)
            throws IOException {
        Tools.require("nbdcopy", "qemu-io");
        Image image = image(dir, seed);
        fd.exportAdd("img", image.file() + options);
        return new Exported(image.file(), image.content(), disk0.replace("/disk0", "/img"));
    }

    /**
     * Reads the whole image with nbdcopy, checks its bytes and that its large reads went out from
     * the file; returns the server's count of such reads after it.
     */
    private static long readAllFromFile(NbdServer nbd, byte[] content, String uri, Path dir, String what)
            throws IOException {
        long before = nbd.readsSentFromFile();
        Images.assertSameBytes(content, copyOut(uri, dir), what);
        long after = nbd.readsSentFromFile();
        assertTrue(after > before, what + ": large reads went out from the file");
        return after;
    }

    /** The whole export as nbdcopy reads it (256 KiB requests, several in flight, unless {@code options} say otherwise). */
    static byte[] copyOut(String uri, Path dir, String... options) throws IOException {
        Path out = dir.resolve("out.raw");
        Files.deleteIfExists(out);
        NbdCopy.copy(uri, out.toString(), options);
        return Files.readAllBytes(out);
    }

    /**
     * Adds to export img a corrupt rule on 4 KiB at MiB 1 and an EIO rule on 4 KiB at MiB 2, and
     * checks that each acts on its range and nothing else, and that no read goes around them:
     * {@code bypassing} counts the reads that skip the device stack, nbdcopy reads with
     * {@code copyOptions}, qemu-io with {@code readBytes}. Returns that count with the rules in place.
     */
    static long assertRulesSeeEveryRead(
            FaultdiskClient fd,
            String uri,
            Path dir,
            byte[] content,
            LongSupplier bypassing,
            int readBytes,
            String... copyOptions)
            throws IOException {
        fd.faultAdd("img", FaultRule.corrupt("flip").with("bits", 3).ops("read").range(MIB, 4096));
        long ruled = bypassing.getAsLong();
        byte[] corrupted = copyOut(uri, dir, copyOptions);
        assertEquals(ruled, bypassing.getAsLong(), "no read went around the rule");
        assertCorruptedOnlyAt(content, corrupted, MIB, 4096);

        fd.faultAdd("img", FaultRule.error("EIO").ops("read").range(2 * MIB, 4096));
        CommandResult failed = QemuIo.run(uri, "read 2M " + readBytes, "read 3M " + readBytes);
        assertEquals(
                List.of(
                        "read failed: Input/output error",
                        "read " + readBytes + "/" + readBytes + " bytes at offset " + 3 * MIB),
                QemuIo.reports(failed.stdout()),
                failed.toString());
        assertEquals(ruled, bypassing.getAsLong(), "no read went around the rules");
        return ruled;
    }

    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void readsGoOutFromTheFileUntilARuleActsAndAgainOnceItIsRemoved(
            FaultdiskClient fd, FaultdiskServer server, @ExportUri("disk0") String disk0, @TempDir Path dir)
            throws IOException {
        NbdServer nbd = server.nbd();
        Exported img = exportImage(fd, disk0, dir, 0x5e1d_f11eL, "");
        readAllFromFile(nbd, img.content(), img.uri(), dir, "the image read with no rules");
        byte[] content = img.content();
        String uri = img.uri();

        // Rules added at run time: every read goes through them again, none leaves from the file.
        assertRulesSeeEveryRead(fd, uri, dir, content, nbd::readsSentFromFile, MIB);

        fd.faultClear("img");
        QemuIo.run(uri, "read 2M 1M").assertOk("the read the rule failed, once it is removed");
        readAllFromFile(nbd, img.content(), img.uri(), dir, "the image read once the rules are removed");

        // A write through the export reaches the file, and the next reads from the file see it.
        QemuIo.run(uri, "write -P 0x77 4M 1M").assertOk("write a MiB");
        Arrays.fill(content, 4 * MIB, 5 * MIB, (byte) 0x77);
        readAllFromFile(nbd, img.content(), img.uri(), dir, "the image after the write");
    }

    /**
     * An image with a hole: reads wholly in data still go out from the file, reads that touch the
     * hole are read the usual way, and none allocates the hole (on tmpfs, where the test puts the
     * image when the machine has one, a read through the mapping would).
     */
    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void anImageWithAHoleSendsItsDataFromTheFileAndLeavesTheHoleAlone(
            FaultdiskClient fd, FaultdiskServer server, @ExportUri("disk0") String disk0, @TempDir Path dir)
            throws IOException {
        Path shm = Path.of("/dev/shm");
        boolean tmpfs = Files.isDirectory(shm) && Files.getFileStore(shm).type().equals("tmpfs");
        Path where = tmpfs ? Files.createTempDirectory(shm, "faultdisk-test") : dir;
        try {
            Exported img = exportImage(fd, disk0, where, 0x5e1d_f122L, "");
            NbdServer nbd = server.nbd();
            byte[] content = img.content();
            String uri = img.uri();

            // Zeroes that may unmap punch a hole.
            QemuIo.run(uri, "write -z -u 1M 1M").assertOk("punch a hole");
            Arrays.fill(content, MIB, 2 * MIB, (byte) 0);
            long allocated = allocatedBlocks(img.file());

            long before = nbd.readsSentFromFile();
            QemuIo.run(uri, "read -P 0 1M 1M", "read 512K 1M", "read 1536K 1M").assertOk("reads touching the hole");
            assertEquals(before, nbd.readsSentFromFile(), "no read touching the hole went out from the file");
            QemuIo.run(uri, "read 3M 1M", "read 4M 2M").assertOk("reads wholly in data");
            assertEquals(before + 2, nbd.readsSentFromFile(), "reads wholly in data went out from the file");
            readAllFromFile(nbd, content, uri, dir, "the image with a hole (" + (tmpfs ? "tmpfs" : "temp dir") + ")");
            assertEquals(allocated, allocatedBlocks(img.file()), "the hole is still a hole");
        } finally {
            if (tmpfs) {
                FileTrees.delete(where);
            }
        }
    }

    /** The blocks a file has allocated, as stat counts them. */
    private static long allocatedBlocks(Path file) {
        CommandResult stat =
                Command.run(WAIT, "stat", "-c", "%b", file.toString()).assertOk("stat");
        return Long.parseLong(stat.stdout().strip());
    }

    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void dataTheWriteCacheHoldsIsReadFromTheCacheNotTheFile(
            FaultdiskClient fd, @ExportUri("disk0") String disk0, @TempDir Path dir) throws IOException {
        // lying-flush: flushes succeed and write nothing back, so the written MiB stays in the cache.
        Exported img = exportImage(fd, disk0, dir, 0x5e1d_f11fL, ",cache=lying-flush");
        Path file = img.file();
        byte[] content = img.content();
        String uri = img.uri();

        QemuIo.run(uri, "write -P 0x5a 3M 1M").assertOk("write a MiB into the cache");
        byte[] onDisk = Files.readAllBytes(file);
        assertArrayEquals(content, onDisk, "the write is still in the cache only");
        CommandResult cached = QemuIo.run(uri, "read -P 0x5a 3M 1M");
        assertEquals(
                List.of("read 1048576/1048576 bytes at offset 3145728"),
                QemuIo.reports(cached.stdout()),
                cached.toString());
        CommandResult half = QemuIo.run(uri, "read -P 0x5a 3584k 1M");
        assertTrue(half.stdout().contains("Pattern verification failed"), "half of this read is not cached: " + half);

        byte[] expected = content.clone();
        Arrays.fill(expected, 3 * MIB, 4 * MIB, (byte) 0x5a);
        Images.assertSameBytes(expected, copyOut(uri, dir), "the image with the cached MiB over the file's");
    }

    /**
     * TLS never sends around the session, but seals large reads straight from the image's mapping
     * (whatever way plain connections use, but not in {@code copy} mode); plain connections on the
     * same server send from the file.
     */
    @Test
    void tlsConnectionsSealFromTheMappingAndPlainOnesSendFromTheFile(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdcopy");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        Image image = image(dir, 0x5e1d_f120L);
        Path file = image.file();
        byte[] content = image.content();
        try (FaultdiskServer server = tlsServer(pki, file)) {
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            NbdServer nbd = server.nbd();
            String tls = "nbds://localhost:" + port + "/img?tls-certificates=" + pki.caOnly();
            Images.assertSameBytes(content, copyOut(tls, dir), "the image over TLS");
            assertEquals(0, nbd.readsSentFromFile(), "a TLS connection sent nothing around TLS");
            long sealed = nbd.readsSealedFromFile();
            assertTrue(sealed > 0, "TLS sealed its large reads from the image's mapping");

            System.setProperty(SWITCH, "copy");
            Images.assertSameBytes(content, copyOut(tls, dir), "the image over TLS, every read copied");
            assertEquals(sealed, nbd.readsSealedFromFile(), "in copy mode TLS sealed nothing from the mapping");
            System.setProperty(SWITCH, mode());

            Images.assertSameBytes(content, copyOut("nbd://127.0.0.1:" + port + "/img", dir), "the image in plain");
            assertTrue(nbd.readsSentFromFile() > 0, "a plain connection on the same server sends from the file");
            assertEquals(sealed, nbd.readsSealedFromFile(), "a plain connection sealed nothing");
        }
    }

    /**
     * An image shrunk under a TLS read sealed from its mapping: the session's copy out of the
     * mapping meets pages that are gone. That connection ends (or its read is answered whole); the
     * server process survives it and serves the next TLS connection.
     */
    @Test
    void anImageShrunkUnderATlsReadEndsOnlyThatConnection(@TempDir Path dir) throws Exception {
        Tools.require("openssl", "nbdcopy", "qemu-io");
        TestPki pki = TestPki.create(dir.resolve("pki"));
        Image image = image(dir, 0x5e1d_f126L);
        Path file = image.file();
        byte[] head = new byte[MIB];
        Arrays.fill(head, (byte) 0x6b);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(head), 0);
        }
        try (FaultdiskServer server = tlsServer(pki, file)) {
            int port = ((InetSocketAddress) server.nbdAddress()).getPort();
            String tls = "nbds://localhost:" + port + "/img?tls-certificates=" + pki.caOnly();
            copyOut(tls, dir); // maps the whole file
            long sealed = server.nbd().readsSealedFromFile();
            assertTrue(sealed > 0, "reads were sealed from the mapping");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(MIB);
            }
            String creds = "tls-creds-x509,id=tls0,dir=" + pki.caOnly() + ",endpoint=client";
            String target = "driver=nbd,host=localhost,port=" + port + ",export=img,tls-creds=tls0";
            // across the new end (a quarter of it in the file, the rest in pages gone from the
            // mapping), then the head again on the same connection: if the stream went on, the
            // reply before was whole and this one reads true
            CommandResult across = qemuIoOverTls(
                    creds, target, "read " + (MIB - (256 << 10)) + " " + MIB, "read -P 0x6b 0 " + (512 << 10));
            assertFalse(across.stdout().contains("Pattern verification failed"), "no reply cut short: " + across);
            CommandResult next = qemuIoOverTls(creds, target, "read -P 0x6b 0 " + (512 << 10));
            next.assertOk("the next TLS connection after the shrink");
            assertEquals(
                    List.of("read " + (512 << 10) + "/" + (512 << 10) + " bytes at offset 0"),
                    QemuIo.reports(next.stdout()),
                    "the next TLS connection is served from the file's head");
            assertTrue(server.nbd().readsSealedFromFile() > sealed, "it was sealed from the mapping too");
        }
    }

    private static FaultdiskServer tlsServer(TestPki pki, Path file) throws Exception {
        return FaultdiskServer.builder()
                .export("img=" + file)
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withTls(TlsMode.ON, TlsCredentials.server(pki.dir(), false)))
                .start();
    }

    private static CommandResult qemuIoOverTls(String creds, String target, String... commands) {
        List<String> command = new java.util.ArrayList<>(List.of("qemu-io", "--object", creds, "--image-opts"));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(target);
        return Command.run(QemuIo.TIMEOUT, command);
    }

    @Test
    void copyModeSendsNothingFromTheFileAndTheDefaultDoes(@TempDir Path dir) throws IOException {
        Tools.require("nbdcopy");
        Image image = image(dir, 0x5e1d_f124L);
        try (TestServer server = new TestServer("img=" + image.file())) {
            System.setProperty(SWITCH, "copy");
            Images.assertSameBytes(image.content(), copyOut(server.uri("img"), dir), "the image, every read copied");
            assertEquals(0, server.server().readsSentFromFile(), "nothing went out from the file");
            System.clearProperty(SWITCH);
            readAllFromFile(server.server(), image.content(), server.uri("img"), dir, "the image, the default way");
        }
    }

    @Test
    void aUnixSocketConnectionSendsFromTheFileToo(@TempDir Path dir) throws IOException {
        Tools.require("nbdcopy");
        Image image = image(dir, 0x5e1d_f123L);
        try (TestServer server = TestServer.onUnixSocket(dir.resolve("nbd.sock"), "img=" + image.file())) {
            readAllFromFile(server.server(), image.content(), server.uri("img"), dir, "the image over a Unix socket");
        }
    }

    /**
     * A client that stops reading fills the socket: sendfile then sends nothing, the rest goes out
     * as the socket drains, and the bytes arrive whole and in order.
     */
    @Test
    @Faultdisk(exports = "disk0=memory:1M")
    void aClientThatStopsReadingGetsEveryByteOnceItReadsAgain(
            FaultdiskClient fd, FaultdiskServer server, @TempDir Path dir) throws IOException {
        Image image = image(dir, 0x5e1d_f121L);
        byte[] content = image.content();
        fd.exportAdd("img", image.file().toString());
        int port = ((InetSocketAddress) server.nbdAddress()).getPort();
        long before = server.nbd().readsSentFromFile();
        try (RawNbd client = RawNbd.open(port, "img")) {
            int[] offsets = {0, 0, 0, MIB / 2, MIB, 2 * MIB};
            int length = SIZE - 2 * MIB;
            for (int i = 0; i < offsets.length; i++) {
                client.header(RawNbd.READ, i, offsets[i], length);
            }
            // 36 MiB of replies are more than the socket buffers hold while the client reads nothing.
            await().atMost(WAIT)
                    .until(() -> server.nbd().connections().stream().anyMatch(ConnectionInfo::writingReply));
            for (int i = 0; i < offsets.length; i++) {
                assertEquals(0, client.replyHeader(i), "read " + i);
                byte[] data = new byte[length];
                client.in.readFully(data);
                assertArrayEquals(
                        Arrays.copyOfRange(content, offsets[i], offsets[i] + length), data, "read at " + offsets[i]);
            }
        }
        assertNotEquals(before, server.nbd().readsSentFromFile(), "the reads went out from the file");
    }

    /**
     * An image shrunk behind the server's back: a read past its new end comes back whole (zeroes
     * past the end), as an error, or ends its connection; never a reply cut short on a stream that
     * goes on. Other connections go on being served.
     */
    @Test
    void anImageShrunkBehindTheServerNeverLeavesAReplyCutShort(@TempDir Path dir) throws IOException {
        Tools.require("nbdcopy");
        Image image = image(dir, 0x5e1d_f125L);
        Path file = image.file();
        byte[] content = image.content();
        try (TestServer server = new TestServer("img=" + file)) {
            Images.assertSameBytes(content, copyOut(server.uri("img"), dir), "the whole image, before");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(MIB);
            }
            try (RawNbd client = RawNbd.open(server.port(), "img")) {
                client.socket.setSoTimeout(20_000); // a reply cut short would leave this read waiting
                // across the new end: a quarter of it in the file, the rest past its end
                client.header(RawNbd.READ, 1, MIB - (256 << 10), MIB);
                try {
                    if (client.replyHeader(1) == 0) {
                        byte[] data = new byte[MIB];
                        client.in.readFully(data);
                        byte[] expected = new byte[MIB];
                        System.arraycopy(content, MIB - (256 << 10), expected, 0, 256 << 10);
                        assertArrayEquals(expected, data, "the file's bytes, then zeroes past its end");
                    }
                    assertArrayEquals(
                            Arrays.copyOf(content, 256 << 10), read(client, 2, 0, 256 << 10), "the stream goes on");
                } catch (EOFException | SocketException ended) {
                    // the connection ended: what the client had was whole replies only
                }
            }
            try (RawNbd other = RawNbd.open(server.port(), "img")) {
                assertArrayEquals(
                        Arrays.copyOf(content, 512 << 10),
                        read(other, 3, 0, 512 << 10),
                        "another connection is served");
            }
        }
    }

    private static byte[] read(RawNbd client, long cookie, long offset, int length) throws IOException {
        client.header(RawNbd.READ, cookie, offset, length);
        assertEquals(0, client.replyHeader(cookie), "read at " + offset);
        byte[] data = new byte[length];
        client.in.readFully(data);
        return data;
    }
}
