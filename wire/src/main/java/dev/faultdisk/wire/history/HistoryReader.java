package dev.faultdisk.wire.history;

import dev.faultdisk.wire.history.HistoryEntry.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a history file ({@link HistoryFormat}): its header, its entries in order (without their
 * data, which stays in the file) and, on demand, a write's data. Opening scans the file once; a
 * torn or corrupt tail ends the entries there ({@link #tornTail}). Safe for concurrent reads of
 * data once opened.
 */
public final class HistoryReader implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final Header header;
    private final List<HistoryEntry> entries;
    private final boolean tornTail;

    /**
     * What the file header says.
     *
     * @param export the export recorded
     * @param baseSnapshot the snapshot holding the device's data before the first entry
     * @param size the device's size in bytes
     * @param blockSize its logical block size (the unit a write may tear at)
     * @param created when recording started
     */
    public record Header(String export, String baseSnapshot, long size, int blockSize, Instant created) {}

    private HistoryReader(Path path, FileChannel channel, Header header, List<HistoryEntry> entries, boolean torn) {
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.entries = entries;
        this.tornTail = torn;
    }

    /** Opens and scans {@code path}. */
    public static HistoryReader open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            ByteBuffer h = HistoryFormat.little(HistoryFormat.FILE_HEADER);
            readFully(ch, h, 0);
            h.flip();
            byte[] magic = new byte[HistoryFormat.MAGIC.length];
            if (h.remaining() < HistoryFormat.FILE_HEADER) {
                throw new IOException(path + " is not a faultdisk history (too short)");
            }
            h.get(magic);
            if (!Arrays.equals(magic, HistoryFormat.MAGIC)) {
                throw new IOException(path + " is not a faultdisk history (bad magic)");
            }
            int version = h.getInt();
            if (version != HistoryFormat.VERSION) {
                throw new IOException(path + ": history version " + version + " is not supported");
            }
            int blockSize = h.getInt();
            long size = h.getLong();
            long created = h.getLong();
            String export = HistoryFormat.getName(h);
            String base = HistoryFormat.getName(h);
            Header header = new Header(export, base, size, blockSize, Instant.ofEpochMilli(created));
            List<HistoryEntry> entries = new ArrayList<>();
            boolean torn = scan(ch, entries);
            return new HistoryReader(path, ch, header, List.copyOf(entries), torn);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static boolean scan(FileChannel ch, List<HistoryEntry> out) throws IOException {
        long pos = HistoryFormat.FILE_HEADER;
        long fileSize = ch.size();
        ByteBuffer h = HistoryFormat.little(HistoryFormat.ENTRY_HEADER);
        while (pos < fileSize) {
            if (fileSize - pos < HistoryFormat.ENTRY_HEADER) {
                return true;
            }
            h.clear();
            readFully(ch, h, pos);
            h.flip();
            if (h.getInt(0) != HistoryFormat.ENTRY_MAGIC) {
                return true;
            }
            int kindCode = h.get(4);
            if (kindCode < 0 || kindCode >= Kind.values().length) {
                return true;
            }
            Kind kind = Kind.of(kindCode);
            boolean fua = (h.get(5) & HistoryFormat.FLAG_FUA) != 0;
            int labelBytes = Short.toUnsignedInt(h.getShort(6));
            long index = h.getLong(8);
            long offset = h.getLong(16);
            long length = h.getLong(24);
            long connection = h.getLong(32);
            long start = h.getLong(40);
            long end = h.getLong(48);
            int ref = h.getInt(56);
            int crc = h.getInt(60);
            long payload = kind == Kind.WRITE ? length : labelBytes;
            if (index != out.size()
                    || length < 0
                    || payload < 0
                    || fileSize - pos - HistoryFormat.ENTRY_HEADER < payload) {
                return true;
            }
            long dataPos = pos + HistoryFormat.ENTRY_HEADER;
            ByteBuffer body = null;
            if (payload > 0) {
                body = ByteBuffer.allocate((int) Math.min(payload, Integer.MAX_VALUE));
                readFully(ch, body, dataPos);
                body.flip();
            }
            if (HistoryFormat.crc(h, body) != crc) {
                return true;
            }
            String label = kind == Kind.MARK || kind == Kind.END
                    ? new String(body == null ? new byte[0] : body.array(), 0, labelBytes, StandardCharsets.UTF_8)
                    : "";
            out.add(new HistoryEntry(
                    index,
                    kind,
                    offset,
                    length,
                    fua,
                    connection,
                    start,
                    end,
                    ref,
                    label,
                    kind == Kind.WRITE ? dataPos : -1));
            pos = dataPos + payload;
            if (kind == Kind.END) {
                return false;
            }
        }
        return false;
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
        long p = pos;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, p);
            if (n < 0) {
                return;
            }
            p += n;
        }
    }

    public Path path() {
        return path;
    }

    public Header header() {
        return header;
    }

    /** Every intact entry, in log order; entry {@code i} has index {@code i}. */
    public List<HistoryEntry> entries() {
        return entries;
    }

    /** True if the file ended in a torn or corrupt entry (cut off), rather than cleanly. */
    public boolean tornTail() {
        return tornTail;
    }

    /** True if the history ended with its END entry (it was stopped, not cut short). */
    public boolean complete() {
        return !entries.isEmpty() && entries.getLast().kind() == Kind.END;
    }

    /** True if recording stopped early: the size budget was reached or the log could not be written. */
    public boolean overflowed() {
        return complete() && !entries.getLast().label().equals("stopped");
    }

    /**
     * Reads {@code dst.remaining()} bytes of a write's data, starting {@code skip} bytes into it
     * (e.g. one sector of a torn write).
     */
    public void read(HistoryEntry write, long skip, ByteBuffer dst) throws IOException {
        if (write.kind() != Kind.WRITE) {
            throw new IllegalArgumentException("entry " + write.index() + " is a " + write.kind() + ", not a write");
        }
        if (skip < 0 || skip + dst.remaining() > write.length()) {
            throw new IllegalArgumentException(
                    "entry " + write.index() + " has " + write.length() + " bytes, not " + (skip + dst.remaining()));
        }
        int want = dst.remaining();
        readFully(channel, dst, write.dataPosition() + skip);
        if (dst.hasRemaining()) {
            throw new IOException(path + ": entry " + write.index() + " ends early (" + (want - dst.remaining())
                    + " of " + want + " bytes)");
        }
    }

    /** A write's whole data. */
    public byte[] data(HistoryEntry write) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(write.length()));
        read(write, 0, b);
        return b.array();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
