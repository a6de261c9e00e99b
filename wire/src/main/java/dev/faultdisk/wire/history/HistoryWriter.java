package dev.faultdisk.wire.history;

import dev.faultdisk.wire.history.HistoryEntry.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends entries to a history file ({@link HistoryFormat}). Safe for concurrent use: entries are
 * numbered and appended under one lock, so the file's order is the order of the calls.
 *
 * <p>Durability policy: appends go to a buffer of {@value #BUFFER} bytes that is written to the
 * file when full, at every flush end and mark (so a reader of a live history sees whole epochs)
 * and at {@link #close}, which also forces the file to the disk. Nothing is forced per entry: the
 * history serves exploration after the run, and a server that dies mid-run loses the run, but a
 * torn tail is detected by each entry's checksum and cut off by the reader.
 *
 * <p>Budget: at most {@code maxBytes} bytes of file. The entry that would pass it is not written;
 * the history is then marked overflowed and records nothing more (its END entry says so).
 */
public final class HistoryWriter implements AutoCloseable {
    static final int BUFFER = 1 << 20;

    private final Path path;
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
    private final ByteBuffer header = HistoryFormat.little(HistoryFormat.ENTRY_HEADER);
    private final long maxBytes;
    private long position;
    private long next;
    private boolean overflowed;
    private boolean closed;
    private String failure;

    private HistoryWriter(Path path, FileChannel channel, long maxBytes) {
        this.path = path;
        this.channel = channel;
        this.maxBytes = maxBytes;
    }

    /**
     * Creates the history file {@code path} (it must not exist) for a device of {@code size}
     * bytes served as {@code export}, whose state before the first entry is held by snapshot
     * {@code baseSnapshot}.
     */
    public static HistoryWriter create(
            Path path, String export, String baseSnapshot, long size, int blockSize, long createdMillis, long maxBytes)
            throws IOException {
        if (maxBytes < HistoryFormat.FILE_HEADER + 2L * HistoryFormat.ENTRY_HEADER) {
            throw new IllegalArgumentException("a history needs at least 1 KiB: max-bytes " + maxBytes);
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            ByteBuffer h = HistoryFormat.little(HistoryFormat.FILE_HEADER);
            h.put(HistoryFormat.MAGIC).putInt(HistoryFormat.VERSION).putInt(blockSize);
            h.putLong(size).putLong(createdMillis);
            HistoryFormat.putName(h, export);
            HistoryFormat.putName(h, baseSnapshot);
            h.position(0);
            while (h.hasRemaining()) {
                ch.write(h);
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        HistoryWriter w = new HistoryWriter(path, ch, maxBytes);
        w.position = HistoryFormat.FILE_HEADER;
        return w;
    }

    public Path path() {
        return path;
    }

    /** Logs a completed change; {@code data} (a write's bytes, its remaining ones) is not consumed. */
    public synchronized long change(
            Kind kind, long offset, long length, boolean fua, long connection, long start, long end, ByteBuffer data) {
        return append(kind, offset, length, fua, connection, start, end, -1, kind == Kind.WRITE ? data : null);
    }

    /** Logs a completed read: where and how long, not the data. */
    public synchronized long read(long offset, long length, long connection, long start, long end) {
        return append(Kind.READ, offset, length, false, connection, start, end, -1, null);
    }

    /** Logs that a flush began; returns its index, for {@link #flushEnd}. */
    public synchronized long flushBegin(long connection, long now) {
        return append(Kind.FLUSH_BEGIN, 0, 0, false, connection, now, now, -1, null);
    }

    /** Logs that the flush logged as {@code begin} completed. */
    public synchronized long flushEnd(long begin, long connection, long start, long end) {
        long index = append(Kind.FLUSH_END, 0, 0, false, connection, start, end, begin, null);
        drainQuietly();
        return index;
    }

    /** Logs a label. */
    public synchronized long mark(String label, long now) {
        byte[] bytes = label.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > HistoryFormat.MAX_LABEL) {
            throw new IllegalArgumentException(
                    "a mark's label is at most " + HistoryFormat.MAX_LABEL + " bytes, not " + bytes.length);
        }
        long index = append(Kind.MARK, 0, 0, false, -1, now, now, -1, ByteBuffer.wrap(bytes));
        drainQuietly();
        return index;
    }

    /** Entries logged so far. */
    public synchronized long entries() {
        return next;
    }

    /** Bytes of file so far, buffered ones included. */
    public synchronized long bytes() {
        return position;
    }

    /** True once an entry did not fit the budget: the history stopped there. */
    public synchronized boolean overflowed() {
        return overflowed;
    }

    /** Why the history stopped recording early, or null: the budget ("overflowed") or an I/O error. */
    public synchronized String failure() {
        return failure;
    }

    private long append(
            Kind kind,
            long offset,
            long length,
            boolean fua,
            long connection,
            long start,
            long end,
            long ref,
            ByteBuffer payload) {
        // Recording never fails the request it records: once closed, full or broken, it stops.
        if (closed || overflowed) {
            return -1;
        }
        int payloadBytes = payload == null ? 0 : payload.remaining();
        // room is always kept for the END entry and its label
        if (kind != Kind.END && position + 2L * HistoryFormat.ENTRY_HEADER + payloadBytes + 16 > maxBytes) {
            overflowed = true;
            failure = "overflowed";
            return -1;
        }
        long index = next++;
        header.clear();
        header.putInt(HistoryFormat.ENTRY_MAGIC)
                .put((byte) kind.ordinal())
                .put((byte) (fua ? HistoryFormat.FLAG_FUA : 0))
                .putShort((short) (kind == Kind.WRITE ? 0 : payloadBytes));
        header.putLong(index).putLong(offset).putLong(length).putLong(connection);
        header.putLong(start).putLong(end).putInt((int) ref);
        header.putInt(HistoryFormat.crc(header, payload));
        header.flip();
        try {
            put(header);
            if (payload != null) {
                put(payload.duplicate());
            }
        } catch (IOException e) {
            overflowed = true;
            failure = "failed: " + e.getMessage();
            return -1;
        }
        position += HistoryFormat.ENTRY_HEADER + payloadBytes;
        return index;
    }

    private void put(ByteBuffer src) throws IOException {
        if (src.remaining() > buffer.remaining()) {
            drain();
            if (src.remaining() > buffer.capacity()) {
                while (src.hasRemaining()) {
                    channel.write(src);
                }
                return;
            }
        }
        buffer.put(src);
    }

    private void drainQuietly() {
        try {
            drain();
        } catch (IOException e) {
            overflowed = true;
            failure = "failed: " + e.getMessage();
        }
    }

    private void drain() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    /** Appends the END entry, writes everything out, forces the file to the disk and closes it. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            boolean over = overflowed;
            overflowed = false; // the END entry always fits: every append keeps room for it
            String reason = failure == null ? "stopped" : failure;
            byte[] label = reason.getBytes(StandardCharsets.UTF_8);
            append(Kind.END, 0, 0, false, -1, 0, 0, -1, ByteBuffer.wrap(label, 0, Math.min(label.length, 200)));
            overflowed = over;
            drain();
            channel.force(true);
        } finally {
            closed = true;
            channel.close();
        }
    }
}
