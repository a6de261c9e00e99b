package dev.faultdisk.wire.net;

import java.util.Arrays;

/**
 * What a ClientHello offers that the JDK's engine gives the server no say over: its versions,
 * cipher suites and the groups of its TLS 1.3 key shares (RFC 8446, 4.1.2, 4.2.1 and 4.2.8), read
 * from its record before the engine sees it. The engine takes the client's first share it
 * supports. A ClientHello split over records, a malformed one or another record offers nothing
 * here: the engine then reads it as it would have, and refuses what it must.
 *
 * @param versions the versions of its supported_versions extension (none without one)
 * @param suites the cipher suites, in the client's order
 * @param shares the key shares' groups, in the client's order
 */
public record ClientHelloOffer(int[] versions, int[] suites, int[] shares) {
    /** RFC 8446, 4.2.7: x25519. */
    public static final int X25519 = 0x001d;

    static final ClientHelloOffer NOTHING = new ClientHelloOffer(new int[0], new int[0], new int[0]);
    private static final int TLS13 = 0x0304;

    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int SUPPORTED_VERSIONS = 43;
    private static final int KEY_SHARE = 51;
    private static final int RANDOM = 32;

    /** The offer of the ClientHello whose whole record is {@code buf[start, end)}. */
    public static ClientHelloOffer read(byte[] buf, int start, int end) {
        if (end - start < TlsRecordHeader.SIZE || buf[start] != HANDSHAKE) {
            return NOTHING;
        }
        int recordEnd = start + TlsRecordHeader.SIZE + TlsRecordHeader.bodyLength(buf, start);
        if (recordEnd > end) {
            return NOTHING;
        }
        try {
            return new Reader(buf, start + TlsRecordHeader.SIZE, recordEnd).clientHello();
        } catch (IndexOutOfBoundsException e) {
            return NOTHING; // a length past the record: malformed, or continued in the next record
        }
    }

    /** Whether the client offers TLS 1.3 (in its supported_versions). */
    public boolean offersTls13() {
        return contains(versions, TLS13);
    }

    /** Whether the client sent a key share of {@code group}. */
    public boolean shares(int group) {
        return contains(shares, group);
    }

    /** Whether the client offers one of {@code suites}. */
    public boolean offersAnyOf(int... wanted) {
        for (int s : wanted) {
            if (contains(suites, s)) {
                return true;
            }
        }
        return false;
    }

    private static boolean contains(int[] values, int value) {
        for (int v : values) {
            if (v == value) {
                return true;
            }
        }
        return false;
    }

    /** Reads within one record, every length checked against what holds it. */
    private static final class Reader {
        private final byte[] buf;
        private final int end;
        private int at;

        Reader(byte[] buf, int at, int end) {
            this.buf = buf;
            this.at = at;
            this.end = end;
        }

        ClientHelloOffer clientHello() {
            if (u8() != CLIENT_HELLO) {
                return NOTHING;
            }
            int helloLength = u24();
            int helloEnd = at + helloLength;
            check(helloEnd <= end);
            skip(2 + RANDOM); // legacy_version, random
            skip(u8()); // legacy_session_id
            int suitesLength = u16();
            int[] suites = list(suitesLength, false);
            skip(u8()); // legacy_compression_methods
            int[] versions = new int[0];
            int[] shares = new int[0];
            if (at < helloEnd) {
                int extensionsLength = u16();
                int extensionsEnd = at + extensionsLength;
                check(extensionsEnd <= helloEnd);
                while (at < extensionsEnd) {
                    int type = u16();
                    int extensionLength = u16();
                    int extensionEnd = at + extensionLength;
                    check(extensionEnd <= extensionsEnd);
                    if (type == KEY_SHARE) {
                        int length = u16();
                        check(at + length == extensionEnd);
                        shares = list(length, true);
                    } else if (type == SUPPORTED_VERSIONS) {
                        int length = u8();
                        check(at + length == extensionEnd);
                        versions = list(length, false);
                    } else {
                        skip(extensionEnd - at);
                    }
                }
            }
            return new ClientHelloOffer(versions, suites, shares);
        }

        /**
         * {@code bytes} of entries, each a 2-byte value followed, {@code withData}, by data with a
         * 2-byte length (a KeyShareEntry): the values in order.
         */
        private int[] list(int bytes, boolean withData) {
            int listEnd = at + bytes;
            check(listEnd <= end);
            int[] values = new int[bytes / 2 + 1]; // one past: an entry running over is checked
            int n = 0;
            while (at < listEnd) {
                values[n++] = u16();
                if (withData) {
                    skip(u16());
                }
                check(at <= listEnd);
            }
            return Arrays.copyOf(values, n);
        }

        private int u8() {
            check(at < end);
            return buf[at++] & 0xff;
        }

        private int u16() {
            return (u8() << 8) | u8();
        }

        private int u24() {
            return (u8() << 16) | u16();
        }

        private void skip(int n) {
            at += n;
            check(at <= end);
        }

        private static void check(boolean ok) {
            if (!ok) {
                throw new IndexOutOfBoundsException("ClientHello");
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientHelloOffer other
                && Arrays.equals(versions, other.versions)
                && Arrays.equals(suites, other.suites)
                && Arrays.equals(shares, other.shares);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(versions) + Arrays.hashCode(suites)) + Arrays.hashCode(shares);
    }

    @Override
    public String toString() {
        return "versions " + Arrays.toString(versions) + ", suites " + Arrays.toString(suites) + ", shares "
                + Arrays.toString(shares);
    }
}
