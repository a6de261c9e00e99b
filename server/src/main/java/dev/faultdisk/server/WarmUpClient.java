package dev.faultdisk.server;

import static dev.faultdisk.nbd.NbdProtocol.CMD_DISC;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLAG_NO_HOLE;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLUSH;
import static dev.faultdisk.nbd.NbdProtocol.CMD_READ;
import static dev.faultdisk.nbd.NbdProtocol.CMD_TRIM;
import static dev.faultdisk.nbd.NbdProtocol.CMD_WRITE;
import static dev.faultdisk.nbd.NbdProtocol.CMD_WRITE_ZEROES;
import static dev.faultdisk.nbd.NbdProtocol.FLAG_FIXED_NEWSTYLE;
import static dev.faultdisk.nbd.NbdProtocol.FLAG_NO_ZEROES;
import static dev.faultdisk.nbd.NbdProtocol.IHAVEOPT;
import static dev.faultdisk.nbd.NbdProtocol.NBDMAGIC;
import static dev.faultdisk.nbd.NbdProtocol.OPTION_REPLY_MAGIC;
import static dev.faultdisk.nbd.NbdProtocol.OPT_GO;
import static dev.faultdisk.nbd.NbdProtocol.OPT_STARTTLS;
import static dev.faultdisk.nbd.NbdProtocol.REP_ACK;
import static dev.faultdisk.nbd.NbdProtocol.REQUEST_MAGIC;
import static dev.faultdisk.nbd.NbdProtocol.SIMPLE_REPLY_MAGIC;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The warm-up's NBD client ({@link WarmUp}): fixed newstyle, STARTTLS when given {@link
 * WarmUpTls}, NBD_OPT_GO, simple replies, requests kept {@link #DEPTH} deep as fio keeps them, 4
 * KiB reads with a 256 KiB one now and then if asked, and with {@code writes} one request in eight
 * a 4 KiB write, one in sixteen a 4 KiB zero (NO_HOLE every other time: on tmpfs a punched hole
 * allocated again, a path of its own), one in 64 a 4 KiB trim and one in 256 a flush. It talks
 * only to the private server the warm-up starts, so it trusts what it is sent beyond the magic
 * numbers and the errors it checks; a watchdog closes its socket if it outlives its time, so that
 * a server's start never waits on it for long.
 */
final class WarmUpClient implements AutoCloseable {
    static final int DEPTH = 64;
    private static final int SMALL = 4096;
    private static final int LARGE = 256 << 10;

    private final SocketChannel channel;
    private final Thread watchdog;
    private final WarmUpTls.Session session;
    private final DataInputStream in;
    private final OutputStream out;
    private final long size;
    private final Duration lifetime;
    private final ByteBuffer header = ByteBuffer.allocate(28);
    private final byte[] reply = new byte[16];
    private final byte[] data = new byte[LARGE];
    private final int[] readLength = new int[DEPTH];

    private WarmUpClient(
            SocketChannel channel, Thread watchdog, WarmUpTls.Session session, long size, Duration lifetime) {
        this.channel = channel;
        this.lifetime = lifetime;
        this.watchdog = watchdog;
        this.session = session;
        this.in = new DataInputStream(session.in());
        // One write a request (a TLS record each), as a client sends them; flushed before each wait.
        this.out = new BufferedOutputStream(session.out(), 28 + SMALL);
        this.size = size;
    }

    /**
     * Connects to {@code export} at {@code address}, over {@code tls} if not null; the socket is
     * closed, whatever the client is doing, once {@code lifetime} has passed.
     */
    static WarmUpClient connect(SocketAddress address, String export, WarmUpTls tls, Duration lifetime)
            throws IOException {
        return connect(address, export, tls, 0, lifetime);
    }

    /** As {@link #connect(SocketAddress, String, WarmUpTls, Duration)}, as TLS handshake number {@code n}. */
    static WarmUpClient connect(SocketAddress address, String export, WarmUpTls tls, int n, Duration lifetime)
            throws IOException {
        SocketChannel channel = SocketChannel.open(address);
        if (!(address instanceof UnixDomainSocketAddress)) {
            // As NBD clients do: a request, or a TLS handshake's next message, is not held back
            // until the last one is acknowledged (40 ms a handshake without it, on loopback).
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        Thread watchdog = Thread.ofVirtual().name("warm-up-watchdog").start(() -> {
            try {
                Thread.sleep(lifetime);
                channel.close();
            } catch (InterruptedException | IOException e) {
                // done in time (interrupted), or already closed
            }
        });
        try {
            WarmUpTls.Session plain =
                    new WarmUpTls.Session(Channels.newInputStream(channel), Channels.newOutputStream(channel), channel);
            WarmUpTls.Session session = greet(plain, tls, n, channel);
            return new WarmUpClient(channel, watchdog, session, go(session, export), lifetime);
        } catch (IOException | RuntimeException e) {
            watchdog.interrupt();
            IOException reason = explained(e, channel, lifetime);
            channel.close();
            throw reason;
        }
    }

    /** Reads the greeting and answers it; with {@code tls}, asks for STARTTLS and runs the handshake. */
    private static WarmUpTls.Session greet(WarmUpTls.Session plain, WarmUpTls tls, int n, SocketChannel channel)
            throws IOException {
        ByteBuffer greeting = readFully(plain, 18);
        if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
            throw new IOException("warm-up: not an NBD newstyle greeting");
        }
        plain.out()
                .write(ByteBuffer.allocate(4)
                        .putInt(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)
                        .array());
        if (tls == null) {
            return plain;
        }
        option(plain, OPT_STARTTLS, new byte[0]);
        if (optionReply(plain).type() != REP_ACK) {
            throw new IOException("warm-up: STARTTLS refused");
        }
        return tls.secure(channel, n);
    }

    /** NBD_OPT_GO up to transmission; returns the export's size. */
    private static long go(WarmUpTls.Session session, String export) throws IOException {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        option(
                session,
                OPT_GO,
                ByteBuffer.allocate(4 + name.length + 2)
                        .putInt(name.length)
                        .put(name)
                        .putShort((short) 0)
                        .array());
        long size = -1;
        while (true) {
            OptionReply reply = optionReply(session);
            if (reply.type() == REP_ACK) {
                break;
            }
            if (reply.type() < 0) {
                throw new IOException(
                        "warm-up: NBD_OPT_GO refused (reply type 0x" + Integer.toHexString(reply.type()) + ")");
            }
            ByteBuffer body = reply.body();
            if (body.remaining() >= 10 && body.getShort(0) == 0) { // NBD_INFO_EXPORT: size, then flags
                size = body.getLong(2);
            }
        }
        if (size < SMALL) {
            throw new IOException("warm-up: the export is smaller than one request");
        }
        return size;
    }

    private record OptionReply(int type, ByteBuffer body) {}

    private static void option(WarmUpTls.Session session, int option, byte[] data) throws IOException {
        ByteBuffer request = ByteBuffer.allocate(16 + data.length);
        request.putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data);
        session.out().write(request.array());
        session.out().flush();
    }

    private static OptionReply optionReply(WarmUpTls.Session session) throws IOException {
        ByteBuffer head = readFully(session, 20);
        if (head.getLong() != OPTION_REPLY_MAGIC) {
            throw new IOException("warm-up: bad option reply magic");
        }
        head.getInt();
        int type = head.getInt();
        return new OptionReply(type, readFully(session, head.getInt()));
    }

    /**
     * Keeps {@link #DEPTH} requests in flight for {@code nanos}, then lets them finish and
     * disconnects; returns how many were answered. {@code seed} picks the offsets (a warm-up need
     * not be random, only varied); without {@code largeReads} every read is 4 KiB.
     */
    long drive(long nanos, boolean writes, boolean largeReads, long seed) throws IOException {
        try {
            return run(nanos, writes, largeReads, seed);
        } catch (IOException | RuntimeException e) {
            throw explained(e, channel, lifetime);
        }
    }

    private long run(long nanos, boolean writes, boolean largeReads, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        long smallBlocks = size / SMALL;
        long largeBlocks = largeReads ? size / LARGE : 0;
        long end = System.nanoTime() + nanos;
        long sent = 0;
        long answered = 0;
        for (int slot = 0; slot < DEPTH; slot++) {
            send(slot, sent++, random, smallBlocks, largeBlocks, writes);
        }
        out.flush();
        while (answered < sent) {
            int slot = receive();
            answered++;
            if (System.nanoTime() < end) {
                send(slot, sent++, random, smallBlocks, largeBlocks, writes);
                out.flush();
            }
        }
        disconnect();
        return answered;
    }

    /** Sends NBD_CMD_DISC: the server ends the session. */
    void disconnect() throws IOException {
        header.clear().putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_DISC);
        header.putLong(0).putLong(0).putInt(0);
        out.write(header.array());
        out.flush();
    }

    private void send(int slot, long n, SplittableRandom random, long smallBlocks, long largeBlocks, boolean writes)
            throws IOException {
        boolean flush = writes && n % 256 == 255;
        boolean write = writes && !flush && n % 8 == 7;
        boolean zero = writes && n % 16 == 3;
        boolean trim = writes && n % 64 == 13;
        boolean large = !write && !flush && n % 32 == 31 && largeBlocks > 0;
        int length = flush ? 0 : large ? LARGE : SMALL;
        long offset = flush ? 0 : large ? random.nextLong(largeBlocks) * LARGE : random.nextLong(smallBlocks) * SMALL;
        int type = flush ? CMD_FLUSH : write ? CMD_WRITE : zero ? CMD_WRITE_ZEROES : trim ? CMD_TRIM : CMD_READ;
        int flags = zero && (n / 16) % 2 == 0 ? CMD_FLAG_NO_HOLE : 0;
        readLength[slot] = type == CMD_READ ? length : 0;
        header.clear().putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type);
        header.putLong(slot).putLong(offset).putInt(length);
        out.write(header.array());
        if (write) {
            out.write(data, 0, length);
        }
    }

    /** Reads one reply and its data; returns its slot. */
    private int receive() throws IOException {
        in.readFully(reply);
        ByteBuffer head = ByteBuffer.wrap(reply);
        if (head.getInt() != SIMPLE_REPLY_MAGIC) {
            throw new IOException("warm-up: bad reply magic");
        }
        int error = head.getInt();
        int slot = (int) head.getLong();
        if (error != 0) {
            throw new IOException("warm-up: request failed with NBD error " + error);
        }
        if (readLength[slot] > 0) {
            in.readFully(data, 0, readLength[slot]);
        }
        return slot;
    }

    private static ByteBuffer readFully(WarmUpTls.Session session, int length) throws IOException {
        byte[] bytes = new byte[length];
        new DataInputStream(session.in()).readFully(bytes);
        return ByteBuffer.wrap(bytes);
    }

    /** {@code e} said as the warm-up's report says it: a socket the watchdog cut, an early end. */
    private static IOException explained(Exception e, SocketChannel channel, Duration lifetime) {
        if (!channel.isOpen()) {
            return new IOException("warm-up: the private server did not answer within " + lifetime, e);
        }
        if (e instanceof EOFException) {
            return new IOException("warm-up: the server closed the connection", e);
        }
        return e instanceof IOException io ? io : new IOException("warm-up: " + e, e);
    }

    @Override
    public void close() throws IOException {
        watchdog.interrupt();
        try {
            session.end().close(); // close_notify over TLS, then the socket
        } catch (IOException e) {
            // After NBD_CMD_DISC the server may have closed first: nothing is left to end.
        } finally {
            channel.close();
        }
    }
}
