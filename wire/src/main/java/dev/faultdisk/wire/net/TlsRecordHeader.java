package dev.faultdisk.wire.net;

/** A TLS record's header as it arrives: type, version, length (RFC 5246, 6.2.1; RFC 8446, 5.1). */
public final class TlsRecordHeader {
    /** Bytes of the header. */
    public static final int SIZE = 5;
    /** The most plaintext a record may hold (RFC 5246, 6.2.1; RFC 8446, 5.1). */
    public static final int MAX_PLAINTEXT = 1 << 14;

    private TlsRecordHeader() {}

    /** The length of the body of the record whose header starts at {@code at}. */
    public static int bodyLength(byte[] buf, int at) {
        return ((buf[at + 3] & 0xff) << 8) | (buf[at + 4] & 0xff);
    }

    /** True if {@code buf[start, end)} begins with a whole record, header and body. */
    public static boolean wholeRecordIn(byte[] buf, int start, int end) {
        return end - start >= SIZE && end - start >= SIZE + bodyLength(buf, start);
    }
}
