package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.nbd.NbdProtocol;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSL's TLS client ({@code openssl s_client}) as an NBD client. NBD negotiates TLS after
 * plaintext (STARTTLS), which s_client does not speak, so this negotiates up to the STARTTLS
 * reply itself and hands the connection to s_client through a local port; NBD then goes through
 * s_client's standard input and comes out of its standard output ({@code -nocommands}: no line
 * is taken as one of its commands unless {@link #command} asks). s_client's own report (and its
 * {@code -msg} dump where asked) goes to {@link #errors}.
 */
final class OpensslClient implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final SocketChannel server;
    private final Path errors;
    private final DataOutputStream in;
    private final DataInputStream out;
    private long cookie;

    private OpensslClient(Process process, SocketChannel server, Path errors) {
        this.process = process;
        this.server = server;
        this.errors = errors;
        this.in = new DataOutputStream(process.getOutputStream());
        this.out = new DataInputStream(process.getInputStream());
    }

    /**
     * s_client with {@code options} on a TLS session with the NBD server at {@code address} (TCP or a
     * Unix socket), its report in {@code errors}; {@code commands} lets lines beginning with s_client's
     * command letters through as commands.
     */
    static OpensslClient start(SocketAddress address, Path errors, boolean commands, List<String> options)
            throws IOException {
        SocketChannel server = SocketChannel.open(
                address instanceof UnixDomainSocketAddress ? StandardProtocolFamily.UNIX : StandardProtocolFamily.INET);
        try (ServerSocketChannel local = ServerSocketChannel.open()) {
            server.connect(address);
            startTls(server);
            local.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            local.configureBlocking(false);
            List<String> argv = new ArrayList<>(List.of(
                    "openssl",
                    "s_client",
                    "-connect",
                    "127.0.0.1:" + ((InetSocketAddress) local.getLocalAddress()).getPort()));
            if (!commands) {
                argv.add("-nocommands");
            }
            argv.addAll(options);
            Process process =
                    new ProcessBuilder(argv).redirectError(errors.toFile()).start();
            OpensslClient client = new OpensslClient(process, server, errors);
            // s_client refusing its own options never connects: accept while it lives.
            Instant deadline = Instant.now().plus(TIMEOUT);
            SocketChannel accepted;
            while ((accepted = local.accept()) == null) {
                if (!process.isAlive() || Instant.now().isAfter(deadline)) {
                    client.close();
                    throw new IOException("s_client did not connect: "
                            + Files.readString(errors).strip());
                }
                sleep();
            }
            SocketChannel tls = accepted;
            tls.configureBlocking(true);
            Thread.ofVirtual().start(() -> pump(tls, server));
            Thread.ofVirtual().start(() -> pump(server, tls));
            return client;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** What s_client wrote besides NBD: its summary, errors and any {@code -msg} dump. */
    Path errors() {
        return errors;
    }

    /** NBD_OPT_GO for {@code export}, through to its ACK. */
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

    /**
     * A write of {@code data} at {@code offset}. s_client reads its input 4,096 bytes at a time and
     * takes each read as it comes, so any size goes through.
     */
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

    /**
     * A line s_client takes as a command ({@code K}, {@code k}: a KeyUpdate), once its report says
     * it ran (the report counts {@code KEYUPDATE} once per command). Needs {@code commands}.
     */
    void command(String letter) throws IOException {
        long before = Files.readString(errors).split("KEYUPDATE", -1).length;
        in.write((letter + "\n").getBytes(StandardCharsets.US_ASCII));
        in.flush();
        await().atMost(TIMEOUT).until(() -> Files.readString(errors).split("KEYUPDATE", -1).length > before);
    }

    /** NBD_CMD_DISC, then the end of s_client's input; s_client ends when the server closes. */
    void disconnect() throws IOException {
        request(NbdProtocol.CMD_DISC, 0, 0);
        in.close();
        try {
            process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
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

    /** Plaintext negotiation on {@code server} up to the server's ACK to STARTTLS. */
    private static void startTls(SocketChannel server) throws IOException {
        DataInputStream in = new DataInputStream(Channels.newInputStream(server));
        DataOutputStream out = new DataOutputStream(Channels.newOutputStream(server));
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
    }

    /** Copies {@code from} to {@code to} until {@code from} ends, then ends {@code to}'s output. */
    private static void pump(SocketChannel from, SocketChannel to) {
        // Neither stream is closed: that would close its channel, which the other pump still uses.
        InputStream source = Channels.newInputStream(from);
        OutputStream sink = Channels.newOutputStream(to);
        try {
            source.transferTo(sink);
            to.shutdownOutput();
        } catch (IOException e) {
            // one side closed: the caller's assertions say what went wrong
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
