package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenSSL's TLS 1.3 client over a pre-shared key ({@code openssl s_client -psk}), a second TLS
 * implementation beside GnuTLS's: its {@code K} command sends a KeyUpdate asking for one back
 * (RFC 8446, 4.6.3), {@code k} one asking for none. The server must answer the first with a
 * KeyUpdate of its own before its next reply, and the second with none; the data written and
 * read back across them shows both sides moved to their next keys. s_client speaks NBD through
 * {@link OpensslClient}.
 */
@Timeout(120)
class OpensslKeyUpdateTest {
    /**
     * Small enough that a request and its data reach s_client in one read: a write to a pipe of
     * at most 4,096 bytes is never split, and s_client takes a read beginning with Q, R, K or k
     * as a command.
     */
    private static final int BLOCK = 2048;

    @Test
    void aKeyUpdateAskingForOneBackIsAnsweredAndOneAskingForNoneIsNot(@TempDir Path dir) throws Exception {
        Tools.require("openssl");
        Path psk = TestPki.create(dir.resolve("pki")).pskDir("erin", 0x0c5e_0001L);
        String key = Files.readString(psk.resolve("keys.psk")).strip().split(":")[1];
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("d=memory:8M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .nbdOptions(NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(psk.resolve("keys.psk"))))
                .start()) {
            Path messages = dir.resolve("messages.txt");
            try (OpensslClient session = OpensslClient.start(
                    server.nbdAddress(),
                    dir.resolve("s_client.err"),
                    true,
                    List.of(
                            "-tls1_3",
                            "-psk_identity",
                            "erin",
                            "-psk",
                            key,
                            "-brief",
                            "-msg",
                            "-msgfile",
                            messages.toString()))) {
                session.go("d");
                byte[] first = random(1);
                session.write(0, first);
                assertArrayEquals(first, session.read(0, BLOCK), "before any KeyUpdate");

                session.command("K");
                byte[] second = random(2);
                session.write(BLOCK, second);
                assertArrayEquals(concat(first, second), session.read(0, 2 * BLOCK), "after the KeyUpdate asked back");
                assertEquals(
                        List.of(">>> 01", "<<< 00"),
                        keyUpdates(messages, 2),
                        "the client's, asking; the server's, not");

                session.command("k");
                byte[] third = random(3);
                session.write(2 * BLOCK, third);
                assertArrayEquals(
                        concat(concat(first, second), third), session.read(0, 3 * BLOCK), "after one asking none");
                assertEquals(List.of(">>> 01", "<<< 00", ">>> 00"), keyUpdates(messages, 3), "no second answer");
                session.disconnect();
            }
        }
    }

    /**
     * The KeyUpdates in s_client's message log, in order (direction and request byte), once it
     * holds at least {@code atLeast}: s_client writes the log as it handles each message.
     */
    private static List<String> keyUpdates(Path messages, int atLeast) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> keyUpdates(messages), l -> l.size() >= atLeast);
    }

    private static List<String> keyUpdates(Path messages) throws IOException {
        Matcher m = Pattern.compile("(>>>|<<<) TLS 1\\.3, Handshake \\[length 0005\\], KeyUpdate\\s+18 00 00 01 (0\\d)")
                .matcher(Files.readString(messages));
        return m.results().map(r -> r.group(1) + " " + r.group(2)).toList();
    }

    private static byte[] random(long seed) {
        byte[] b = new byte[BLOCK];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
