package dev.faultdisk.device;

import dev.faultdisk.wire.BlockOp;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One request on its way down an export's stack: what to do, where, with which flags, and what
 * the frontend knows about it. Immutable: a layer that changes the request (a fault moving a
 * write, the power gate stamping its epoch) passes a copy down. Compare nbdkit's {@code flags}
 * argument and QEMU's {@code BdrvRequestFlags} with its tracked request.
 *
 * <p>For a read or a write, {@link #length()} is the number of bytes of the buffer passed along
 * with the request; for a flush, offset and length are 0.
 *
 * @param op what to do
 * @param offset byte offset (0 for a flush)
 * @param length byte count (0 for a flush)
 * @param flagBits the {@link Flag#bit()}s of its flags, or'ed together
 * @param connection the client connection it came from, or {@link #NO_CONNECTION}
 * @param inline true if it runs inline on a connection's reader thread, where blocking would stall
 *     the connection: see {@link BlockDevice#mayBlock()}
 * @param epoch the power epoch at which it entered the export, or {@link #NO_EPOCH} if no gate
 *     stamped it
 * @param sequence its place among its connection's requests (from 1, in arrival order), or 0 if
 *     the frontend does not number them: what lets a layer count requests in arrival order when
 *     they run on threads of their own
 */
public record BlockRequest(
        BlockOp op,
        long offset,
        long length,
        int flagBits,
        long connection,
        boolean inline,
        long epoch,
        long sequence) {
    /** The connection of a request no frontend sent (an in-process caller). */
    public static final long NO_CONNECTION = -1;
    /** The epoch of a request no power gate stamped: it counts as entering now. */
    public static final long NO_EPOCH = -1;

    /** What a request asks besides its operation and range. */
    public enum Flag {
        /** Durable on return (force unit access). */
        FUA,
        /** Write-zeroes must not deallocate. */
        NO_HOLE,
        /** A structured read must answer in one chunk (don't fragment). */
        DF,
        /** Block status may stop after one extent. */
        REQ_ONE,
        /** Write-zeroes fails with ENOTSUP rather than doing anything slower than a write. */
        FAST_ZERO;

        private final int bit = 1 << ordinal();

        /** This flag's bit, for {@link #of(BlockOp, long, long, int, long, boolean)}. */
        public int bit() {
            return bit;
        }
    }

    public BlockRequest {
        Objects.requireNonNull(op, "op");
    }

    /**
     * A request from a frontend: {@code connection} sent it, and it runs inline on its reader or
     * not. {@code flags} are {@link Flag#bit()}s or'ed together, so that building a request
     * allocates nothing but the request.
     */
    public static BlockRequest of(BlockOp op, long offset, long length, int flags, long connection, boolean inline) {
        return of(op, offset, length, flags, connection, inline, 0);
    }

    /**
     * A request from a frontend that numbers its requests: {@code sequence} is its place among the
     * requests of its connection that reach the stack (from 1, in arrival order).
     */
    public static BlockRequest of(
            BlockOp op, long offset, long length, int flags, long connection, boolean inline, long sequence) {
        return new BlockRequest(op, offset, length, flags, connection, inline, NO_EPOCH, sequence);
    }

    /** A request of an in-process caller: no connection, may block, with {@code flags}. */
    public static BlockRequest of(BlockOp op, long offset, long length, Flag... flags) {
        int bits = 0;
        for (Flag f : flags) {
            bits |= f.bit;
        }
        return new BlockRequest(op, offset, length, bits, NO_CONNECTION, false, NO_EPOCH, 0);
    }

    /** A flush of an in-process caller. */
    public static BlockRequest flush() {
        return of(BlockOp.FLUSH, 0, 0);
    }

    public boolean has(Flag flag) {
        return (flagBits & flag.bit) != 0;
    }

    /** Shorthand for {@code has(Flag.FUA)}. */
    public boolean fua() {
        return (flagBits & Flag.FUA.bit) != 0;
    }

    /** The flags, as a new set. */
    public Set<Flag> flags() {
        Set<Flag> out = EnumSet.noneOf(Flag.class);
        for (Flag f : Flag.values()) {
            if (has(f)) {
                out.add(f);
            }
        }
        return out;
    }

    /** This request over another range (itself if the range is the same). */
    public BlockRequest at(long newOffset, long newLength) {
        return newOffset == offset && newLength == length
                ? this
                : new BlockRequest(op, newOffset, newLength, flagBits, connection, inline, epoch, sequence);
    }

    /** This request with {@code flag} set (itself if it was). */
    public BlockRequest with(Flag flag) {
        return has(flag)
                ? this
                : new BlockRequest(op, offset, length, flagBits | flag.bit, connection, inline, epoch, sequence);
    }

    /** This request without {@code flag} (itself if it was not set). */
    public BlockRequest without(Flag flag) {
        return has(flag)
                ? new BlockRequest(op, offset, length, flagBits & ~flag.bit, connection, inline, epoch, sequence)
                : this;
    }

    /**
     * The flush that makes this request durable (QEMU does a FUA write as a write then a flush):
     * from the same connection, at the same epoch, without range or flags.
     */
    public BlockRequest asFlush() {
        return op == BlockOp.FLUSH && flagBits == 0
                ? this
                : new BlockRequest(BlockOp.FLUSH, 0, 0, 0, connection, inline, epoch, sequence);
    }

    /** This request stamped with the power epoch it entered at. */
    public BlockRequest withEpoch(long entered) {
        return new BlockRequest(op, offset, length, flagBits, connection, inline, entered, sequence);
    }

    @Override
    public String toString() {
        return op.wireName() + " " + offset + "+" + length + (flagBits == 0 ? "" : " " + flags())
                + (connection == NO_CONNECTION ? "" : " conn " + connection) + (inline ? " inline" : "");
    }
}
