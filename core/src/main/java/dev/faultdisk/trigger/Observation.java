package dev.faultdisk.trigger;

import dev.faultdisk.wire.BlockOp;

/**
 * Something a trigger's condition can count: a request entering an export's stack, or an event
 * seen while requests run (a blkdebug event, a fault rule firing, a breakpoint hit, a flush
 * completing, a power cut).
 *
 * @param kind       what happened
 * @param export     the export it happened on
 * @param op         the request's operation (for a completed flush: FLUSH; otherwise null for events)
 * @param offset     the request's offset, or 0
 * @param length     the request's length, or 0
 * @param connection the NBD connection of the request, or -1
 * @param detail     the blkdebug event name, the fault rule id or the breakpoint tag, or null
 */
public record Observation(
        Kind kind, String export, BlockOp op, long offset, long length, long connection, String detail) {

    /** What was observed. */
    public enum Kind {
        REQUEST("request"),
        BLKDEBUG_EVENT("blkdebug-event"),
        FAULT_FIRED("fault-fired"),
        BREAKPOINT_HIT("breakpoint-hit"),
        FLUSH_DONE("flush-done"),
        POWER_CUT("power-cut");

        private final String wireName;

        Kind(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** A request about to run. */
    public static Observation request(String export, BlockOp op, long offset, long length, long connection) {
        return new Observation(Kind.REQUEST, export, op, offset, length, connection, null);
    }

    /** An event on {@code export}; {@code detail} names it further (event name, rule id, tag) or is null. */
    public static Observation event(Kind kind, String export, String detail) {
        return new Observation(kind, export, kind == Kind.FLUSH_DONE ? BlockOp.FLUSH : null, 0, 0, -1, detail);
    }
}
