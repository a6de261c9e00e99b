package dev.faultdisk.nbd;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import java.util.function.BooleanSupplier;

/**
 * What the NBD specification allows a request on one connection to an export: the command, its
 * flags for what was negotiated, its range inside the export, writes only where writable. Pure
 * but for the export's read-only state, so each rule can be read and tested on its own.
 *
 * @param size           the export's size
 * @param structured     whether structured replies were negotiated (or extended headers)
 * @param extended       whether extended headers were
 * @param baseAllocation whether the base:allocation context was
 * @param readOnly       whether the export refuses writes, asked per write as the device is
 */
record RequestValidator(
        long size, boolean structured, boolean extended, boolean baseAllocation, BooleanSupplier readOnly) {
    private static final int FUA = BlockRequest.Flag.FUA.bit();
    private static final int NO_HOLE = BlockRequest.Flag.NO_HOLE.bit();
    private static final int FAST_ZERO = BlockRequest.Flag.FAST_ZERO.bit();
    private static final int DF = BlockRequest.Flag.DF.bit();
    private static final int REQ_ONE = BlockRequest.Flag.REQ_ONE.bit();

    /** A validator for compact headers. */
    RequestValidator(long size, boolean structured, boolean baseAllocation, BooleanSupplier readOnly) {
        this(size, structured, false, baseAllocation, readOnly);
    }

    /**
     * Whether a payload follows the request's header, of {@code h.length} bytes: a WRITE's, or
     * under extended headers any request's that says so (NBD_CMD_FLAG_PAYLOAD_LEN), whatever
     * else is wrong with it: the next request starts after it. A WRITE carries one with the flag
     * or without: libnbd sets it, QEMU's client (10.0) does not.
     */
    boolean carriesPayload(RequestHeader h) {
        return h.type == NbdProtocol.CMD_WRITE || (extended && (h.flags & NbdProtocol.CMD_FLAG_PAYLOAD_LEN) != 0);
    }

    /**
     * Whether {@code h} is a BLOCK_STATUS whose payload names the contexts to answer for: offered
     * (NBD_FLAG_BLOCK_STATUS_PAYLOAD) under extended headers where a context was negotiated. The
     * payload read, the request is checked as the plain one it stands for.
     */
    boolean filtersBlockStatus(RequestHeader h) {
        return extended
                && baseAllocation
                && h.type == NbdProtocol.CMD_BLOCK_STATUS
                && (h.flags & NbdProtocol.CMD_FLAG_PAYLOAD_LEN) != 0;
    }

    /** Returns 0 if the request may run, else the NBD error to reply with. */
    int check(RequestHeader h) {
        int allowed = NbdProtocol.CMD_FLAG_FUA;
        if (extended && h.type == NbdProtocol.CMD_WRITE) {
            allowed |= NbdProtocol.CMD_FLAG_PAYLOAD_LEN; // a write's length is its payload's either way
        }
        switch (h.type) {
            case NbdProtocol.CMD_READ -> allowed |= structured ? NbdProtocol.CMD_FLAG_DF : 0;
            case NbdProtocol.CMD_WRITE_ZEROES ->
                allowed |= NbdProtocol.CMD_FLAG_NO_HOLE | NbdProtocol.CMD_FLAG_FAST_ZERO;
            case NbdProtocol.CMD_BLOCK_STATUS -> allowed |= NbdProtocol.CMD_FLAG_REQ_ONE;
            case NbdProtocol.CMD_WRITE, NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_TRIM, NbdProtocol.CMD_CACHE -> {}
            default -> {
                return NbdProtocol.EINVAL;
            }
        }
        if ((h.flags & ~allowed) != 0) {
            return NbdProtocol.EINVAL;
        }
        switch (h.type) {
            case NbdProtocol.CMD_FLUSH -> {
                return h.offset == 0 && h.length == 0 ? 0 : NbdProtocol.EINVAL;
            }
            case NbdProtocol.CMD_BLOCK_STATUS -> {
                if (!structured || !baseAllocation || h.length == 0) {
                    return NbdProtocol.EINVAL;
                }
            }
            case NbdProtocol.CMD_READ -> {
                if (Long.compareUnsigned(h.length, NbdProtocol.MAX_PAYLOAD) > 0) {
                    return NbdProtocol.EOVERFLOW;
                }
            }
            case NbdProtocol.CMD_WRITE -> {
                if (Long.compareUnsigned(h.length, NbdProtocol.MAX_PAYLOAD) > 0) {
                    return NbdProtocol.EINVAL;
                }
            }
            default -> {}
        }
        // Offset and length are unsigned: negative here means 2^63 or more, past any export.
        boolean inRange = h.offset >= 0 && h.length >= 0 && h.offset <= size && h.length <= size - h.offset;
        if (!inRange) {
            return writes(h) ? NbdProtocol.ENOSPC : NbdProtocol.EINVAL;
        }
        if ((writes(h) || h.type == NbdProtocol.CMD_TRIM) && readOnly.getAsBoolean()) {
            return NbdProtocol.EPERM;
        }
        return 0;
    }

    private static boolean writes(RequestHeader h) {
        return h.type == NbdProtocol.CMD_WRITE || h.type == NbdProtocol.CMD_WRITE_ZEROES;
    }

    /** The message that goes with {@link #check}'s error, for structured error replies and logs. */
    static String message(RequestHeader h, int error) {
        return switch (error) {
            case NbdProtocol.ENOSPC -> "request past the end of the export";
            case NbdProtocol.EOVERFLOW -> "request larger than the maximum payload";
            case NbdProtocol.EPERM -> "export is read-only";
            default ->
                "invalid " + NbdProtocol.commandName(h.type) + " request (flags " + h.flags + ", offset " + h.offset
                        + ", length " + h.length + ")";
        };
    }

    /**
     * False for requests answered without the device: CACHE (advisory; data already lives in memory
     * or page cache) and a TRIM or WRITE_ZEROES of no bytes.
     */
    static boolean reachesDevice(RequestHeader h) {
        return switch (h.type) {
            case NbdProtocol.CMD_CACHE -> false;
            case NbdProtocol.CMD_TRIM, NbdProtocol.CMD_WRITE_ZEROES -> h.length > 0;
            default -> true;
        };
    }

    /** The device stack's operation for a validated command. */
    static BlockOp opOf(int type) {
        return switch (type) {
            case NbdProtocol.CMD_READ -> BlockOp.READ;
            case NbdProtocol.CMD_WRITE -> BlockOp.WRITE;
            case NbdProtocol.CMD_FLUSH -> BlockOp.FLUSH;
            case NbdProtocol.CMD_TRIM -> BlockOp.TRIM;
            case NbdProtocol.CMD_WRITE_ZEROES -> BlockOp.WRITE_ZEROES;
            default -> BlockOp.BLOCK_STATUS;
        };
    }

    /** The {@link BlockRequest.Flag} bits of a request's NBD command flags. */
    static int blockFlags(int nbdFlags) {
        return ((nbdFlags & NbdProtocol.CMD_FLAG_FUA) != 0 ? FUA : 0)
                | ((nbdFlags & NbdProtocol.CMD_FLAG_NO_HOLE) != 0 ? NO_HOLE : 0)
                | ((nbdFlags & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0 ? FAST_ZERO : 0)
                | ((nbdFlags & NbdProtocol.CMD_FLAG_DF) != 0 ? DF : 0)
                | ((nbdFlags & NbdProtocol.CMD_FLAG_REQ_ONE) != 0 ? REQ_ONE : 0);
    }

    /** The NBD error for a device's errno on this request (see {@link ErrnoMapping}). */
    static int nbdError(RequestHeader h, int errno) {
        return ErrnoMapping.toNbd(
                errno,
                (h.flags & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0,
                h.type == NbdProtocol.CMD_READ && (h.flags & NbdProtocol.CMD_FLAG_DF) != 0);
    }
}
