package dev.faultdisk.server;

import static dev.faultdisk.nbd.NbdProtocol.CMD_DISC;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLUSH;
import static dev.faultdisk.nbd.NbdProtocol.CMD_READ;
import static dev.faultdisk.nbd.NbdProtocol.CMD_WRITE;
import static dev.faultdisk.nbd.NbdProtocol.FLAG_FIXED_NEWSTYLE;
import static dev.faultdisk.nbd.NbdProtocol.FLAG_NO_ZEROES;
import static dev.faultdisk.nbd.NbdProtocol.IHAVEOPT;
import static dev.faultdisk.nbd.NbdProtocol.NBDMAGIC;
import static dev.faultdisk.nbd.NbdProtocol.OPTION_REPLY_MAGIC;
import static dev.faultdisk.nbd.NbdProtocol.OPT_GO;
import static dev.faultdisk.nbd.NbdProtocol.REP_ACK;
import static dev.faultdisk.nbd.NbdProtocol.REQUEST_MAGIC;
import static dev.faultdisk.nbd.NbdProtocol.SIMPLE_REPLY_MAGIC;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The warm-up's NBD client ({@link WarmUp}): fixed newstyle, NBD_OPT_GO, simple replies, requests
 * kept {@link #DEPTH} deep as fio keeps them, 4 KiB reads with a 256 KiB one now and then if
 * asked, and with {@code writes} one request in eight a 4 KiB write and one in 256 a flush. It
 * talks only to the private server the warm-up starts, so it trusts what it is sent beyond the
 * magic numbers and the errors it checks.
 */
final class WarmUpClient implements AutoCloseable {
    static final int DEPTH = 64;
    private static final int SMALL = 4096;
    private static final int LARGE = 256 << 10;

    private final SocketChannel channel;
    private final long size;
    private final ByteBuffer header = ByteBuffer.allocateDirect(28);
    private final ByteBuffer reply = ByteBuffer.allocateDirect(16);
    private final ByteBuffer data = ByteBuffer.allocateDirect(LARGE);
    private final int[] readLength = new int[DEPTH];

    private WarmUpClient(SocketChannel channel, long size) {
        this.channel = channel;
        this.size = size;
    }

    static WarmUpClient connect(SocketAddress address, String export) throws IOException {
        SocketChannel channel = SocketChannel.open(address);
        try {
            return new WarmUpClient(channel, negotiate(channel, export));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Fixed newstyle up to transmission; returns the export's size. */
    private static long negotiate(SocketChannel channel, String export) throws IOException {
        ByteBuffer greeting = readFully(channel, ByteBuffer.allocate(18));
        if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
            throw new IOException("warm-up: not an NBD newstyle greeting");
        }
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer go = ByteBuffer.allocate(4 + 16 + 4 + name.length + 2);
        go.putInt(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        go.putLong(IHAVEOPT).putInt(OPT_GO).putInt(4 + name.length + 2);
        go.putInt(name.length).put(name).putShort((short) 0);
        writeFully(channel, go.flip());
        long size = -1;
        while (true) {
            ByteBuffer head = readFully(channel, ByteBuffer.allocate(20));
            if (head.getLong() != OPTION_REPLY_MAGIC) {
                throw new IOException("warm-up: bad option reply magic");
            }
            head.getInt();
            int type = head.getInt();
            ByteBuffer body = readFully(channel, ByteBuffer.allocate(head.getInt()));
            if (type == REP_ACK) {
                break;
            }
            if (type < 0) {
                throw new IOException("warm-up: NBD_OPT_GO refused (reply type 0x" + Integer.toHexString(type) + ")");
            }
            if (body.remaining() >= 10 && body.getShort(0) == 0) { // NBD_INFO_EXPORT: size, then flags
                size = body.getLong(2);
            }
        }
        if (size < SMALL) {
            throw new IOException("warm-up: the export is smaller than one request");
        }
        return size;
    }

    /**
     * Keeps {@link #DEPTH} requests in flight for {@code nanos}, then lets them finish; returns how
     * many were answered. {@code seed} picks the offsets (a warm-up need not be random, only varied);
     * without {@code largeReads} every read is 4 KiB.
     */
    long drive(long nanos, boolean writes, boolean largeReads, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        long smallBlocks = size / SMALL;
        long largeBlocks = largeReads ? size / LARGE : 0;
        long end = System.nanoTime() + nanos;
        long sent = 0;
        long answered = 0;
        for (int slot = 0; slot < DEPTH; slot++) {
            send(slot, sent++, random, smallBlocks, largeBlocks, writes);
        }
        while (answered < sent) {
            int slot = receive();
            answered++;
            if (System.nanoTime() < end) {
                send(slot, sent++, random, smallBlocks, largeBlocks, writes);
            }
        }
        header.clear().putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_DISC);
        header.putLong(0).putLong(0).putInt(0);
        writeFully(channel, header.flip());
        return answered;
    }

    private void send(int slot, long n, SplittableRandom random, long smallBlocks, long largeBlocks, boolean writes)
            throws IOException {
        boolean flush = writes && n % 256 == 255;
        boolean write = writes && !flush && n % 8 == 7;
        boolean large = !write && !flush && n % 32 == 31 && largeBlocks > 0;
        int length = flush ? 0 : large ? LARGE : SMALL;
        long offset = flush ? 0 : large ? random.nextLong(largeBlocks) * LARGE : random.nextLong(smallBlocks) * SMALL;
        int type = flush ? CMD_FLUSH : write ? CMD_WRITE : CMD_READ;
        readLength[slot] = type == CMD_READ ? length : 0;
        header.clear().putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) type);
        header.putLong(slot).putLong(offset).putInt(length);
        writeFully(channel, header.flip());
        if (write) {
            data.clear().limit(length);
            writeFully(channel, data);
        }
    }

    /** Reads one reply and its data; returns its slot. */
    private int receive() throws IOException {
        readFully(channel, reply.clear());
        if (reply.getInt() != SIMPLE_REPLY_MAGIC) {
            throw new IOException("warm-up: bad reply magic");
        }
        int error = reply.getInt();
        int slot = (int) reply.getLong();
        if (error != 0) {
            throw new IOException("warm-up: request failed with NBD error " + error);
        }
        if (readLength[slot] > 0) {
            readFully(channel, data.clear().limit(readLength[slot]));
        }
        return slot;
    }

    private static ByteBuffer readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("warm-up: the server closed the connection");
            }
        }
        return buffer.flip();
    }

    private static void writeFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
