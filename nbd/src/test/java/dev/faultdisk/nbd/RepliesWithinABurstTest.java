package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.TlsCredentials;
import dev.faultdisk.wire.net.TlsMode;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Over TLS on a Unix socket a burst of requests is answered as it is served, a few replies at a
 * time, not all at its end: the client can send more while the rest of the burst is served. Seen
 * here where the end is far off: four reads, then a large write whose payload comes only after
 * their replies. On a plaintext connection the setting fixes which way: within, as over TLS, or
 * at the end, where the reads' replies wait for the write's payload.
 */
class RepliesWithinABurstTest {
    private static final int WRITE_LENGTH = 1 << 20;
    /** The part of the write's payload sent with the burst. */
    private static final int FIRST_PART = 64 * 1024;

    @Test
    void theFirstRepliesOfABurstGoOutWhileALaterRequestWaitsForItsPayload(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        ExportRegistry registry = registry();
        NbdServer server = new NbdServer(
                        registry,
                        NbdServer.Options.defaults().withTls(TlsMode.REQUIRE, TlsCredentials.server(pki.dir(), false)))
                .start(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")));
        try (RawNbdClient c = RawNbdClient.openTls(
                dir.resolve("nbd.sock"),
                "d",
                TlsCredentials.client(pki.caOnly()).context())) {
            sendBurst(c);
            // The reads' replies come now, while the server waits for the rest of the payload.
            assertReads(c);
            c.sendZeroes(WRITE_LENGTH - FIRST_PART);
            assertEquals(0, RawNbdClient.errorOf(c.readAll(99)), "the write, once its payload came");
            byte[] block = new byte[4096];
            c.write(0, block);
            assertArrayEquals(block, c.read(0, block.length), "the connection goes on");
        } finally {
            server.shutdown(Duration.ofSeconds(5));
            registry.close();
        }
    }

    @Test
    void onAPlaintextConnectionSetToSendWithinTheFirstRepliesGoOutSo(@TempDir Path dir) throws Exception {
        burstOverPlainUnixSocket(dir, ReplyFlushes.Way.WITHIN);
    }

    @Test
    void onAPlaintextConnectionSetToSendAtTheEndTheRepliesWaitForTheWholeBurst(@TempDir Path dir) throws Exception {
        burstOverPlainUnixSocket(dir, ReplyFlushes.Way.AT_END);
    }

    private static void burstOverPlainUnixSocket(Path dir, ReplyFlushes.Way way) throws Exception {
        ExportRegistry registry = registry();
        NbdServer server =
                new NbdServer(registry).replyFlushes(way).start(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")));
        try (RawNbdClient c = RawNbdClient.open(dir.resolve("nbd.sock"), "d", true, false)) {
            sendBurst(c);
            if (way == ReplyFlushes.Way.AT_END) {
                Thread.sleep(300); // time enough for replies sent within the burst to arrive
                assertEquals(0, c.arrived(), "no reply before the burst's end");
                c.sendZeroes(WRITE_LENGTH - FIRST_PART);
                assertReads(c);
            } else {
                assertReads(c);
                c.sendZeroes(WRITE_LENGTH - FIRST_PART);
            }
            assertEquals(0, RawNbdClient.errorOf(c.readAll(99)), "the write, once its payload came");
        } finally {
            server.shutdown(Duration.ofSeconds(5));
            registry.close();
        }
    }

    private static ExportRegistry registry() throws Exception {
        ExportRegistry registry = new ExportRegistry();
        ExportSpec spec = ExportSpec.parse("d=memory:16M");
        registry.add(new Export(spec.name(), spec.openBackend(), false));
        return registry;
    }

    /** Four blocks written, then a burst: four reads of them and a 1 MiB write with part of its payload. */
    private static void sendBurst(RawNbdClient c) throws Exception {
        byte[] block = new byte[4096];
        for (int i = 0; i < 4; i++) {
            Arrays.fill(block, (byte) (i + 1));
            c.write(i * 4096L, block);
        }
        for (int i = 0; i < 4; i++) {
            c.send(0, NbdProtocol.CMD_READ, 10 + i, i * 4096L, 4096, null);
        }
        c.send(0, NbdProtocol.CMD_WRITE, 99, 8L << 20, WRITE_LENGTH, null); // its payload follows later
        c.sendZeroes(FIRST_PART); // part of it (and a flush: all of the above is on its way)
    }

    /** The four reads' replies arrive (within ten seconds) with the blocks written. */
    private static void assertReads(RawNbdClient c) throws Exception {
        Map<Long, List<RawNbdClient.Reply>> reads =
                assertTimeoutPreemptively(Duration.ofSeconds(10), () -> c.readReplies(4), "the reads' replies");
        byte[] block = new byte[4096];
        for (int i = 0; i < 4; i++) {
            Arrays.fill(block, (byte) (i + 1));
            assertArrayEquals(block, RawNbdClient.assemble(i * 4096L, 4096, reads.get(10L + i)), "read " + i);
        }
    }
}
