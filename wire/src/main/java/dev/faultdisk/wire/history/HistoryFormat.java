package dev.faultdisk.wire.history;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The on-disk format of a recorded history: an append-only file, little-endian.
 *
 * <pre>
 * file header, {@value #FILE_HEADER} bytes:
 *   8  magic "FDHIST01"
 *   4  version (1)
 *   4  logical block size of the device (512)
 *   8  device size in bytes
 *   8  creation time, milliseconds since the epoch
 *   2+ export name (u16 length, UTF-8), 2+ base snapshot name (u16 length, UTF-8), zero padding
 * each entry: a {@value #ENTRY_HEADER}-byte header, then its payload
 *   4  magic 0x45484446 ("FDHE")   1 kind   1 flags (bit 0 FUA)   2 payload length of a label
 *   8  index   8 offset   8 length   8 connection   8 start nanos   8 end nanos
 *   4  ref (for FLUSH_END: the begin's index; else all ones)
 *   4  CRC-32C of the header's first 60 bytes and the payload
 *   payload: a WRITE's data (length bytes); a MARK's or END's label; nothing for the rest
 * </pre>
 *
 * The checksum lets a reader stop at a torn tail (a server killed while appending) instead of
 * reading garbage: everything before it is intact.
 */
public final class HistoryFormat {
    /** The file's first bytes. */
    static final byte[] MAGIC = "FDHIST01".getBytes(StandardCharsets.US_ASCII);
    /** The only version so far. */
    static final int VERSION = 1;
    /** Bytes of the file header. */
    public static final int FILE_HEADER = 512;
    /** Bytes of an entry's header. */
    public static final int ENTRY_HEADER = 64;

    static final int ENTRY_MAGIC = 0x45484446;
    static final int FLAG_FUA = 1;
    /** Longest mark label, in UTF-8 bytes. */
    public static final int MAX_LABEL = 4096;

    private HistoryFormat() {}

    static ByteBuffer little(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The checksum of an entry: its header's first 60 bytes, then its payload. */
    static int crc(ByteBuffer header, ByteBuffer payload) {
        CRC32C crc = new CRC32C();
        crc.update(header.duplicate().position(0).limit(60));
        if (payload != null) {
            crc.update(payload.duplicate());
        }
        return (int) crc.getValue();
    }

    static void putName(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 200) {
            throw new IllegalArgumentException("name too long for a history header: " + s);
        }
        b.putShort((short) bytes.length).put(bytes);
    }

    static String getName(ByteBuffer b) {
        int n = Short.toUnsignedInt(b.getShort());
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
