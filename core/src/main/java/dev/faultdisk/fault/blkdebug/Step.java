package dev.faultdisk.fault.blkdebug;

import java.util.Objects;

/**
 * One step of an operation's blkdebug sequence (see {@link EventTable}).
 *
 * @param kind    what happens
 * @param event   the event fired, for {@link Kind#EVENT}
 * @param ioType  the request type checked, for {@link Kind#CHECK}
 * @param when    the condition under which the step runs
 */
public record Step(Kind kind, BlkdebugEvent event, IoType ioType, When when) {

    /** What a step does. */
    public enum Kind {
        /** Fire {@link #event()}: rules on it act, breakpoints on it suspend the request. */
        EVENT,
        /** The rule check for a request of {@link #ioType()} (QEMU's {@code rule_check}). */
        CHECK,
        /** The data transfer itself, done by the device below. */
        IO,
        /** The flush of the device below. */
        FLUSH_IO,
        /** Start of the flush at the format (raw) level: notes whether writes completed since its last flush. */
        BEGIN_FORMAT_FLUSH,
        /** Start of the flush at the blkdebug level: notes whether writes completed since its last flush. */
        BEGIN_DEVICE_FLUSH,
        /** A write completed at the blkdebug level (success or not): its next flush has work to do. */
        DEVICE_WRITTEN,
        /** A write completed at the format level (success or not). */
        FORMAT_WRITTEN
    }

    /** When a step runs. */
    public enum When {
        /** Unless an earlier step failed. */
        IF_OK,
        /** Even after an earlier step failed (QEMU fires {@code pwritev_done} after a failed write). */
        ALWAYS,
        /** Unless something failed, and only if the format level had writes since its last flush. */
        IF_FORMAT_DIRTY,
        /** Unless something failed, and only if the blkdebug level had writes since its last flush. */
        IF_DEVICE_DIRTY
    }

    public Step {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(when, "when");
        if ((kind == Kind.EVENT) != (event != null) || (kind == Kind.CHECK) != (ioType != null)) {
            throw new IllegalArgumentException("event steps need an event, check steps an iotype: " + kind);
        }
    }

    static Step event(BlkdebugEvent e) {
        return new Step(Kind.EVENT, e, null, When.IF_OK);
    }

    static Step event(BlkdebugEvent e, When when) {
        return new Step(Kind.EVENT, e, null, when);
    }

    static Step check(IoType t) {
        return new Step(Kind.CHECK, null, t, When.IF_OK);
    }

    static Step check(IoType t, When when) {
        return new Step(Kind.CHECK, null, t, when);
    }

    static Step of(Kind kind, When when) {
        return new Step(kind, null, null, when);
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case EVENT -> event.qapiName();
            case CHECK -> "check(" + ioType.qapiName() + ")";
            case IO -> "I/O";
            case FLUSH_IO -> "flush I/O";
            default -> kind.name().toLowerCase(java.util.Locale.ROOT);
        };
        return switch (when) {
            case IF_OK -> what;
            case ALWAYS -> what + " [even after a failure]";
            case IF_FORMAT_DIRTY -> what + " [if written since the last flush]";
            case IF_DEVICE_DIRTY -> what + " [if blkdebug written since its last flush]";
        };
    }
}
