package dev.faultdisk.nbd;

import java.nio.ByteBuffer;

/** Fast all-zero checks on reply data, with the JDK's vectorised {@link ByteBuffer#mismatch}. */
final class Zeroes {
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private Zeroes() {}

    /** True if every remaining byte of {@code data} is zero; stops at the first that is not. */
    static boolean isAllZero(ByteBuffer data) {
        // Most data is not zero and shows it in its first bytes: that answer takes no views.
        if (data.remaining() >= Long.BYTES && data.getLong(data.position()) != 0) {
            return false;
        }
        ByteBuffer view = data.duplicate();
        ByteBuffer zero = ZERO.duplicate();
        while (view.hasRemaining()) {
            int n = Math.min(view.remaining(), zero.capacity());
            int limit = view.limit();
            view.limit(view.position() + n);
            zero.clear().limit(n);
            if (view.mismatch(zero) != -1) {
                return false;
            }
            view.limit(limit).position(view.position() + n);
        }
        return true;
    }
}
