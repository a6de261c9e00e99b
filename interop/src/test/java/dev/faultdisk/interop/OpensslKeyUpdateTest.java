package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.nbd.NbdProtocol;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.net.TlsMode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * read back across them shows both sides moved to their next keys. NBD negotiates TLS after
 * plaintext (STARTTLS), which s_client does not speak, so the test negotiates up to the
 * STARTTLS reply itself and hands the socket to s_client through a local port; the NBD
 * requests then go through s_client's input and the replies come out of its output.
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
                        .nbdOptions(NbdServer.Options.defaults()
                                .withPsk(TlsMode.REQUIRE, PskTls.load(psk.resolve("keys.psk"))))
                        .start();
                Socket nbd = startTls(((InetSocketAddress) server.nbdAddress()).getPort());
                ServerSocket local = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path messages = dir.resolve("messages.txt");
            Path errors = dir.resolve("s_client.err");
            Process client = new ProcessBuilder(List.of(
                            "openssl",
                            "s_client",
                            "-connect",
                            "127.0.0.1:" + local.getLocalPort(),
                            "-tls1_3",
                            "-psk_identity",
                            "erin",
                            "-psk",
                            key,
                            "-brief",
                            "-msg",
                            "-msgfile",
                            messages.toString()))
                    .redirectError(errors.toFile())
                    .start();
            try (Socket tls = local.accept()) {
                Thread.ofVirtual().start(() -> pump(tls, nbd));
                Thread.ofVirtual().start(() -> pump(nbd, tls));
                OpenSslSession session = new OpenSslSession(client);
                session.go("d");
                byte[] first = random(1);
                session.write(0, first);
                assertArrayEquals(first, session.read(0, BLOCK), "before any KeyUpdate");

                session.command("K", errors);
                byte[] second = random(2);
                session.write(BLOCK, second);
                assertArrayEquals(concat(first, second), session.read(0, 2 * BLOCK), "after the KeyUpdate asked back");
                assertEquals(
                        List.of(">>> 01", "<<< 00"),
                        keyUpdates(messages, 2),
                        "the client's, asking; the server's, not");

                session.command("k", errors);
                byte[] third = random(3);
                session.write(2 * BLOCK, third);
                assertArrayEquals(
                        concat(concat(first, second), third), session.read(0, 3 * BLOCK), "after one asking none");
                assertEquals(List.of(">>> 01", "<<< 00", ">>> 00"), keyUpdates(messages, 3), "no second answer");
                session.disconnect();
            } finally {
                client.destroy();
                client.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The server's socket after plaintext negotiation and its ACK to STARTTLS. */
    private static Socket startTls(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(60_000);
        DataInputStream in = new DataInputStream(socket.getInputStream());
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        in.readFully(new byte[18]); // NBDMAGIC, IHAVEOPT, handshake flags
        out.writeInt(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeInt(NbdProtocol.OPT_STARTTLS);
        out.writeInt(0);
        out.flush();
        assertEquals(NbdProtocol.OPTION_REPLY_MAGIC, in.readLong(), "an option reply");
        assertEquals(NbdProtocol.OPT_STARTTLS, in.readInt());
        assertEquals(NbdProtocol.REP_ACK, in.readInt(), "STARTTLS acknowledged");
        in.readFully(new byte[in.readInt()]);
        return socket;
    }

    /** Copies {@code from} to {@code to} until {@code from} ends, then ends {@code to}'s output. */
    private static void pump(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (IOException e) {
            // one side closed: the test's assertions say what went wrong
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

    /** NBD over s_client's standard input and output: the option GO, then simple requests. */
    private static final class OpenSslSession {
        private final DataOutputStream in;
        private final DataInputStream out;
        private long cookie;

        OpenSslSession(Process client) {
            this.in = new DataOutputStream(client.getOutputStream());
            this.out = new DataInputStream(client.getInputStream());
        }

        void go(String export) throws IOException {
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            in.writeLong(NbdProtocol.IHAVEOPT);
            in.writeInt(NbdProtocol.OPT_GO);
            in.writeInt(4 + name.length + 2);
            in.writeInt(name.length);
            in.write(name);
            in.writeShort(0); // no information requests
            in.flush();
            while (true) {
                assertEquals(NbdProtocol.OPTION_REPLY_MAGIC, out.readLong(), "an option reply");
                assertEquals(NbdProtocol.OPT_GO, out.readInt());
                int type = out.readInt();
                out.readFully(new byte[out.readInt()]);
                if (type == NbdProtocol.REP_ACK) {
                    return;
                }
                assertEquals(NbdProtocol.REP_INFO, type, "NBD_REP_INFO before the ACK");
            }
        }

        void write(long offset, byte[] data) throws IOException {
            request(NbdProtocol.CMD_WRITE, offset, data.length);
            in.write(data);
            in.flush();
            reply();
        }

        byte[] read(long offset, int length) throws IOException {
            request(NbdProtocol.CMD_READ, offset, length);
            reply();
            byte[] data = new byte[length];
            out.readFully(data);
            return data;
        }

        /** A line s_client takes as a command ({@code K}, {@code k}), once it says it did. */
        void command(String letter, Path errors) throws IOException {
            long before = Files.readString(errors).split("KEYUPDATE", -1).length;
            in.write((letter + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Files.readString(errors).split("KEYUPDATE", -1).length > before);
        }

        void disconnect() throws IOException {
            request(NbdProtocol.CMD_DISC, 0, 0);
            in.close();
        }

        private void request(int type, long offset, int length) throws IOException {
            in.writeInt(NbdProtocol.REQUEST_MAGIC);
            in.writeShort(0);
            in.writeShort(type);
            in.writeLong(++cookie);
            in.writeLong(offset);
            in.writeInt(length);
            if (type != NbdProtocol.CMD_WRITE) {
                in.flush();
            }
        }

        private void reply() throws IOException {
            assertEquals(NbdProtocol.SIMPLE_REPLY_MAGIC, out.readInt(), "a simple reply");
            assertEquals(0, out.readInt(), "no error");
            assertEquals(cookie, out.readLong());
        }
    }
}
