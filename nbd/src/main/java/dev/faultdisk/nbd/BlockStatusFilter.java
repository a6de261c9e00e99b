package dev.faultdisk.nbd;

import java.nio.ByteBuffer;

/**
 * A BLOCK_STATUS request's payload where the server offers NBD_FLAG_BLOCK_STATUS_PAYLOAD (under
 * extended headers): the request's effect length, then the ids of the metadata contexts to answer
 * for, each one negotiated and named once. This server has one context to offer, so a filter can
 * only name it; the rules are the spec's for any number.
 */
final class BlockStatusFilter {
    /**
     * The ids of the contexts this server offers: all negotiated wherever a filter is, as the
     * flag is offered only where base:allocation was.
     */
    private static final int[] CONTEXT_IDS = {NbdProtocol.BASE_ALLOCATION_ID};

    /** The longest payload a filter can take: the effect length and every context's id once. */
    static final int MAX_LENGTH = Long.BYTES + Integer.BYTES * CONTEXT_IDS.length;

    private BlockStatusFilter() {}

    /**
     * Why {@code payload} (its remaining bytes) is no filter, or null if it is one: then its first
     * 8 bytes are the effect length.
     */
    static String problem(ByteBuffer payload) {
        int length = payload.remaining();
        if (length < Long.BYTES + Integer.BYTES || (length - Long.BYTES) % Integer.BYTES != 0) {
            return "block status payload of " + length + " bytes: an 8-byte length and at least one 4-byte context id";
        }
        int start = payload.position() + Long.BYTES;
        for (int at = start; at < payload.limit(); at += Integer.BYTES) {
            int id = payload.getInt(at);
            if (!contains(CONTEXT_IDS, id)) {
                return "block status payload names context id " + Integer.toUnsignedString(id) + ", not negotiated";
            }
            for (int before = start; before < at; before += Integer.BYTES) {
                if (payload.getInt(before) == id) {
                    return "block status payload names context id " + Integer.toUnsignedString(id) + " twice";
                }
            }
        }
        return null;
    }

    /** The effect length of a payload {@link #problem} found none in (unsigned). */
    static long effectLength(ByteBuffer payload) {
        return payload.getLong(payload.position());
    }

    private static boolean contains(int[] ids, int id) {
        for (int each : ids) {
            if (each == id) {
                return true;
            }
        }
        return false;
    }
}
